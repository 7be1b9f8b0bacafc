package ec2fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/tags"
)

// Paging and batching limits of the EC2 API.
const (
	// describePageSize is DescribeInstances' largest page: the fewest calls per listing.
	describePageSize = 1000
	// maxIDsPerCall bounds the ids in one TerminateInstances or CreateTags request; EC2
	// rejects very long requests, and 1000 covers any real deployment in one call.
	maxIDsPerCall = 1000
)

// LiveStates are the instance states that count as a runner: booting or up.
var LiveStates = []string{string(types.InstanceStateNamePending), string(types.InstanceStateNameRunning)}

// OwnLaunchFilter keeps what ghr launched (tags.CreatedByValues): every listing of a
// deployment's instances carries it next to the environment tag.
var OwnLaunchFilter = types.Filter{Name: aws.String("tag:" + tags.CreatedBy), Values: tags.CreatedByValues}

// TemplateFilter keeps the instances EC2 launched from one of ids (tags.LaunchTemplateID).
func TemplateFilter(ids []string) types.Filter {
	return types.Filter{Name: aws.String("tag:" + tags.LaunchTemplateID), Values: ids}
}

// CheckLaunchTemplates refuses a listing without launch template ids: it would match nothing
// on EC2, and a deployment that lists nothing removes nothing it should.
func CheckLaunchTemplates(ids []string) error {
	if len(ids) == 0 {
		return fmt.Errorf("the deployment's launch template ids are required")
	}
	return nil
}

// DescribeAPI lists instances.
type DescribeAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// TerminateAPI terminates instances.
type TerminateAPI interface {
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// TagAPI tags resources.
type TagAPI interface {
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// Instance is one runner instance as listed by its tags.
type Instance struct {
	ID           string
	State        string // pending or running
	LaunchTime   time.Time
	InstanceType string
	Tags         map[string]string
}

// Filter selects this deployment's runner instances by tag. Environment is required, so a
// listing never strays into another deployment in the same account; LaunchTemplates is
// required, so it never returns an instance someone else tagged like ours; the other fields
// narrow it when set.
type Filter struct {
	Environment string // tags.Environment
	// LaunchTemplates are the deployment's launch template ids: EC2 sets tags.LaunchTemplateID
	// on its launches and nobody can set it otherwise.
	LaunchTemplates []string
	RunnerConfig    string // tags.RunnerConfig, "" for every config
	Owner           string // tags.Owner, "" for every owner
	Tags            map[string]string
	States          []string // nil means LiveStates
	IDs             []string // instance ids (at most 200, DescribeInstances' most filter values); nil for every instance
	// AnyOf narrows to instances whose tag has any of the values (at most 200 per tag).
	AnyOf map[string][]string
}

func (f Filter) ec2Filters() ([]types.Filter, error) {
	if f.Environment == "" {
		return nil, fmt.Errorf("list instances: environment is required")
	}
	if err := CheckLaunchTemplates(f.LaunchTemplates); err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	states := f.States
	if states == nil {
		states = LiveStates
	}
	fs := []types.Filter{
		{Name: aws.String("instance-state-name"), Values: states},
		tagFilter(tags.Environment, f.Environment),
		OwnLaunchFilter,
		TemplateFilter(f.LaunchTemplates),
	}
	if f.IDs != nil {
		// A filter, not InstanceIds: an id EC2 no longer lists is left out rather than
		// failing the call.
		fs = append(fs, types.Filter{Name: aws.String("instance-id"), Values: f.IDs})
	}
	if f.RunnerConfig != "" {
		fs = append(fs, tagFilter(tags.RunnerConfig, f.RunnerConfig))
	}
	if f.Owner != "" {
		fs = append(fs, tagFilter(tags.Owner, f.Owner))
	}
	keys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable requests are easier to read in CloudTrail and to test
	for _, k := range keys {
		fs = append(fs, tagFilter(k, f.Tags[k]))
	}
	keys = keys[:0]
	for k := range f.AnyOf {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fs = append(fs, types.Filter{Name: aws.String("tag:" + k), Values: f.AnyOf[k]})
	}
	return fs, nil
}

func tagFilter(key, value string) types.Filter {
	return types.Filter{Name: aws.String("tag:" + key), Values: []string{value}}
}

// List returns the instances matching f, following every page.
func List(ctx context.Context, api DescribeAPI, f Filter) ([]Instance, error) {
	filters, err := f.ec2Filters()
	if err != nil {
		return nil, err
	}
	in := &ec2.DescribeInstancesInput{Filters: filters, MaxResults: aws.Int32(describePageSize)}
	var out []Instance
	for {
		page, err := api.DescribeInstances(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				out = append(out, fromEC2(i))
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func fromEC2(i types.Instance) Instance {
	inst := Instance{
		ID:           aws.ToString(i.InstanceId),
		LaunchTime:   aws.ToTime(i.LaunchTime),
		InstanceType: string(i.InstanceType),
		Tags:         make(map[string]string, len(i.Tags)),
	}
	if i.State != nil {
		inst.State = string(i.State.Name)
	}
	for _, t := range i.Tags {
		inst.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return inst
}

// Terminate terminates the instances in as few calls as possible (one for up to
// maxIDsPerCall ids). Ids that are already gone are not an error for the caller's purpose,
// but EC2 fails the whole call on one unknown id, so callers pass ids they just listed.
func Terminate(ctx context.Context, api TerminateAPI, ids []string) error {
	for chunk := range slices.Chunk(ids, maxIDsPerCall) {
		if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: chunk}); err != nil {
			return fmt.Errorf("terminate %d instances: %w", len(chunk), err)
		}
	}
	return nil
}

// Tag sets the same tags on every resource (instances or volumes) in as few calls as possible.
func Tag(ctx context.Context, api TagAPI, ids []string, kv map[string]string) error {
	if len(ids) == 0 || len(kv) == 0 {
		return nil
	}
	ts := ec2Tags(kv)
	for chunk := range slices.Chunk(ids, maxIDsPerCall) {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: chunk, Tags: ts}); err != nil {
			return fmt.Errorf("tag %d resources: %w", len(chunk), err)
		}
	}
	return nil
}

func ec2Tags(kv map[string]string) []types.Tag {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ts := make([]types.Tag, 0, len(kv))
	for _, k := range keys {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(kv[k])})
	}
	return ts
}
