package cleanup

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/reconcile"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// maxFilterValues is DescribeInstances' most values in one filter.
const maxFilterValues = 200

// EC2API is the part of the EC2 client clean-up uses; *ec2.Client implements it.
type EC2API interface {
	ec2fleet.DescribeAPI
	ec2fleet.TerminateAPI
	ec2fleet.TagAPI
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
	var out []scaledown.Instance
	err := e.describe(ctx, ids, ec2fleet.LiveStates, func(i types.Instance, kv map[string]string) {
		out = append(out, scaledown.FromTags(aws.ToString(i.InstanceId), aws.ToTime(i.LaunchTime), kv))
	})
	return out, err
}

// deadStates are the states of an instance that will never run a job again.
var deadStates = []string{"shutting-down", "terminated", "stopping", "stopped"}

// Hosts implements Fleet: the deployment's instances among ids in any state, with the job
// each runner took. One DescribeInstances per 200 ids; EC2 keeps listing a terminated
// instance, tags included, for about an hour, so a runner that took its job and finished
// still proves it.
func (e EC2) Hosts(ctx context.Context, ids []string) (map[string]reconcile.Host, error) {
	out := map[string]reconcile.Host{}
	states := append(slices.Clone(ec2fleet.LiveStates), deadStates...)
	err := e.describe(ctx, ids, states, func(i types.Instance, kv map[string]string) {
		h := reconcile.Host{ID: aws.ToString(i.InstanceId), State: reconcile.HostDead}
		if i.State != nil && slices.Contains(ec2fleet.LiveStates, string(i.State.Name)) {
			h.State = reconcile.HostAlive
			if kv[tags.Registered] != "" {
				h.State = reconcile.HostRegistered
			}
		}
		if id, err := strconv.ParseInt(kv[tags.TookJob], 10, 64); err == nil && id > 0 {
			h.Took = id
		}
		out[h.ID] = h
	})
	return out, err
}

// MarkTook implements Fleet with one CreateTags call.
func (e EC2) MarkTook(ctx context.Context, id string, jobID int64) error {
	return ec2fleet.Tag(ctx, e.API, []string{id}, map[string]string{tags.TookJob: strconv.FormatInt(jobID, 10)})
}

// describe lists the deployment's instances among ids in states, proven ours by their
// launch template, and hands each to add with its tags.
func (e EC2) describe(ctx context.Context, ids, states []string, add func(types.Instance, map[string]string)) error {
	if e.Prefix == "" {
		return fmt.Errorf("describe instances: deployment prefix is required")
	}
	if err := ec2fleet.CheckLaunchTemplates(e.LaunchTemplates); err != nil {
		return fmt.Errorf("describe instances: %w", err)
	}
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		in := &ec2.DescribeInstancesInput{Filters: []types.Filter{
			{Name: aws.String("instance-id"), Values: chunk},
			{Name: aws.String("instance-state-name"), Values: states},
			{Name: aws.String("tag:" + tags.Environment), Values: []string{e.Prefix}},
			ec2fleet.OwnLaunchFilter,
			ec2fleet.TemplateFilter(e.LaunchTemplates),
		}}
		for {
			page, err := e.API.DescribeInstances(ctx, in)
			if err != nil {
				return fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					kv := make(map[string]string, len(i.Tags))
					for _, t := range i.Tags {
						kv[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
					add(i, kv)
				}
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return nil
}

// Terminate terminates the instances in one call.
func (e EC2) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, e.API, ids)
}
