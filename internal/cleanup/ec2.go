package cleanup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

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
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		f := types.Filter{Name: aws.String("instance-id"), Values: chunk}
		err := e.describe(ctx, f, ec2fleet.LiveStates, func(i types.Instance, kv map[string]string) {
			out = append(out, scaledown.FromTags(aws.ToString(i.InstanceId), aws.ToTime(i.LaunchTime), kv))
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// deadStates are the states of an instance that will never run a job again.
var deadStates = []string{"shutting-down", "terminated", "stopping", "stopped"}

// Live implements Fleet: the deployment's pending or running instances launched for configs,
// with the job each runner took. One DescribeInstances (paged) for a batch: at most
// max_runners instances per config.
func (e EC2) Live(ctx context.Context, configs []string) ([]reconcile.Host, error) {
	var out []reconcile.Host
	f := types.Filter{Name: aws.String("tag:" + tags.RunnerConfig), Values: configs}
	err := e.describe(ctx, f, ec2fleet.LiveStates, func(i types.Instance, kv map[string]string) {
		h := reconcile.Host{ID: aws.ToString(i.InstanceId), State: reconcile.HostAlive, Took: tookJob(kv),
			Config: kv[tags.RunnerConfig], Owner: kv[tags.Owner]}
		if kv[tags.Registered] != "" {
			h.State = reconcile.HostRegistered
		}
		if t, err := time.Parse(time.RFC3339, kv[tags.LaunchDeadline]); err == nil {
			h.Deadline = t
		}
		out = append(out, h)
	})
	return out, err
}

// Takers implements Fleet: which of jobIDs a runner of this deployment took, in any state EC2
// still lists (about an hour after termination, tags included: a runner that took its job and
// finished still proves it). One DescribeInstances per 200 jobs.
func (e EC2) Takers(ctx context.Context, jobIDs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	vals := make([]string, 0, len(jobIDs))
	for _, id := range jobIDs {
		vals = append(vals, strconv.FormatInt(id, 10))
	}
	states := append(slices.Clone(ec2fleet.LiveStates), deadStates...)
	for chunk := range slices.Chunk(vals, maxFilterValues) {
		f := types.Filter{Name: aws.String("tag:" + tags.TookJob), Values: chunk}
		err := e.describe(ctx, f, states, func(i types.Instance, kv map[string]string) {
			if id := tookJob(kv); id > 0 {
				out[id] = aws.ToString(i.InstanceId)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func tookJob(kv map[string]string) int64 {
	id, err := strconv.ParseInt(kv[tags.TookJob], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// MarkTook implements Fleet with one CreateTags call.
func (e EC2) MarkTook(ctx context.Context, id string, jobID int64) error {
	return ec2fleet.Tag(ctx, e.API, []string{id}, map[string]string{tags.TookJob: strconv.FormatInt(jobID, 10)})
}

// describe lists the deployment's instances matching by in states, proven ours by their
// launch template, and hands each to add with its tags. by has at most 200 values.
func (e EC2) describe(ctx context.Context, by types.Filter, states []string, add func(types.Instance, map[string]string)) error {
	if e.Prefix == "" {
		return fmt.Errorf("describe instances: deployment prefix is required")
	}
	if err := ec2fleet.CheckLaunchTemplates(e.LaunchTemplates); err != nil {
		return fmt.Errorf("describe instances: %w", err)
	}
	if len(by.Values) == 0 {
		return nil
	}
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{
		by,
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
			return nil
		}
		in.NextToken = page.NextToken
	}
}

// Terminate terminates the instances in one call.
func (e EC2) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, e.API, ids)
}
