package cleanup

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// maxFilterValues is DescribeInstances' most values in one filter.
const maxFilterValues = 200

// EC2API is the part of the EC2 client clean-up uses; *ec2.Client implements it.
type EC2API interface {
	ec2fleet.DescribeAPI
	ec2fleet.TerminateAPI
}

// EC2 finds instances by id within one deployment. ec2fleet lists by tags only; this adds
// the instance-id filter, so a batch costs one small DescribeInstances call instead of a
// listing of the whole deployment. A filter, not InstanceIds: an id that no longer exists
// is simply not returned rather than failing the call.
type EC2 struct {
	API             EC2API
	Prefix          string
	LaunchTemplates []string // the deployment's launch template ids (ec2fleet.Filter)
}

var (
	_ Fleet  = EC2{}
	_ EC2API = (*ec2.Client)(nil)
)

// Describe returns the pending or running instances of this deployment among ids.
func (e EC2) Describe(ctx context.Context, ids []string) ([]scaledown.Instance, error) {
	if e.Prefix == "" {
		return nil, fmt.Errorf("describe instances: deployment prefix is required")
	}
	if err := ec2fleet.CheckLaunchTemplates(e.LaunchTemplates); err != nil {
		return nil, fmt.Errorf("describe instances: %w", err)
	}
	var out []scaledown.Instance
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		in := &ec2.DescribeInstancesInput{Filters: []types.Filter{
			{Name: aws.String("instance-id"), Values: chunk},
			{Name: aws.String("instance-state-name"), Values: ec2fleet.LiveStates},
			{Name: aws.String("tag:" + tags.Environment), Values: []string{e.Prefix}},
			ec2fleet.OwnLaunchFilter,
			ec2fleet.TemplateFilter(e.LaunchTemplates),
		}}
		for {
			page, err := e.API.DescribeInstances(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					kv := make(map[string]string, len(i.Tags))
					for _, t := range i.Tags {
						kv[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
					out = append(out, scaledown.FromTags(aws.ToString(i.InstanceId), aws.ToTime(i.LaunchTime), kv))
				}
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return out, nil
}

// Terminate terminates the instances in one call.
func (e EC2) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, e.API, ids)
}
