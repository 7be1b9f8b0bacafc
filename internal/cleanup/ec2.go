package cleanup

import (
	"context"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

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

// EC2 finds instances within one deployment by id, runner config or the job a runner took,
// so a batch costs one small DescribeInstances call instead of a listing of the whole
// deployment.
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
		is, err := e.list(ctx, ec2fleet.Filter{IDs: chunk})
		if err != nil {
			return nil, err
		}
		for _, i := range is {
			out = append(out, scaledown.FromTags(i.ID, i.LaunchTime, i.Tags))
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
	if len(configs) == 0 {
		return nil, nil
	}
	is, err := e.list(ctx, ec2fleet.Filter{AnyOf: map[string][]string{tags.RunnerConfig: configs}})
	if err != nil {
		return nil, err
	}
	out := make([]reconcile.Host, 0, len(is))
	for _, i := range is {
		h := reconcile.Host{ID: i.ID, State: reconcile.HostAlive, Took: tookJob(i.Tags),
			Config: i.Tags[tags.RunnerConfig], Owner: i.Tags[tags.Owner]}
		if i.Tags[tags.Registered] != "" {
			h.State = reconcile.HostRegistered
		}
		h.Deadline = tags.LaunchDeadlineOf(i.Tags)
		out = append(out, h)
	}
	return out, nil
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
		is, err := e.list(ctx, ec2fleet.Filter{States: states, AnyOf: map[string][]string{tags.TookJob: chunk}})
		if err != nil {
			return nil, err
		}
		for _, i := range is {
			if id := tookJob(i.Tags); id > 0 {
				out[id] = i.ID
			}
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

// list is ec2fleet.List within this deployment, proven ours by the launch template.
func (e EC2) list(ctx context.Context, f ec2fleet.Filter) ([]ec2fleet.Instance, error) {
	f.Environment, f.LaunchTemplates = e.Prefix, e.LaunchTemplates
	return ec2fleet.List(ctx, e.API, f)
}

// Terminate terminates the instances in one call.
func (e EC2) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, e.API, ids)
}
