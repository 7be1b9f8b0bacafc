package interruption

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// EC2 finds one instance of this deployment by id, in any state (a terminated instance is
// still described for about an hour). An EventBridge event names any instance of the
// account, so the proof that it is ours is the launch template id EC2 itself tagged it with
// (ec2fleet.TemplateFilter), as in every other listing; our own tags alone can be forged.
type EC2 struct {
	API    ec2fleet.DescribeAPI
	Prefix string
	// LaunchTemplates are the deployment's launch template ids (config.LaunchTemplateIDs).
	LaunchTemplates []string
}

var _ Fleet = EC2{}

// Instance returns the instance when it is this deployment's.
func (e EC2) Instance(ctx context.Context, id string) (scaledown.Instance, bool, error) {
	if err := ec2fleet.CheckLaunchTemplates(e.LaunchTemplates); err != nil {
		return scaledown.Instance{}, false, err
	}
	out, err := e.API.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: []string{id}},
		{Name: aws.String("tag:" + tags.Environment), Values: []string{e.Prefix}},
		ec2fleet.OwnLaunchFilter,
		ec2fleet.TemplateFilter(e.LaunchTemplates),
	}})
	if err != nil {
		return scaledown.Instance{}, false, fmt.Errorf("describe instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.InstanceId) != id {
				continue
			}
			kv := make(map[string]string, len(i.Tags))
			for _, t := range i.Tags {
				kv[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			return scaledown.FromTags(id, aws.ToTime(i.LaunchTime), kv), true, nil
		}
	}
	return scaledown.Instance{}, false, nil
}
