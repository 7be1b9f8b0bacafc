package ops

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// launchTemplates returns the ids of the deployment's launch templates: the module names one
// per runner config "<prefix>-<config>", and each config has a build queue (and its DLQ). EC2 tags every
// instance launched from them with the id (tags.LaunchTemplateID), the only tag nobody else
// can set, so listings require it as the functions' do.
func (d *Deployment) launchTemplates(ctx context.Context) ([]string, error) {
	qs, err := d.Queues(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, q := range qs {
		if n := d.Prefix + "-" + q.Config; q.Kind == KindBuild && q.Config != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no build queue of %s: cannot tell its launch templates", d.Prefix)
	}
	// A filter, not LaunchTemplateNames: a config whose template is gone is not an error.
	out, err := d.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []types.Filter{{Name: aws.String("launch-template-name"), Values: names}}})
	if err != nil {
		return nil, fmt.Errorf("launch templates of %s: %w", d.Prefix, err)
	}
	var ids []string
	for _, lt := range out.LaunchTemplates {
		if slices.Contains(names, aws.ToString(lt.LaunchTemplateName)) {
			ids = append(ids, aws.ToString(lt.LaunchTemplateId))
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no launch template named %v", names)
	}
	return ids, nil
}
