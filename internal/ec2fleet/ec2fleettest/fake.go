package ec2fleettest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	ghrtags "github.com/ghr-dev/ghr/internal/tags"
)

// Fake is a small stateful EC2, the one in-memory EC2 of every package's tests: instances
// with tags and states (seeded with Put or launched), instant fleets that honour client
// tokens, pools that can be told to have no capacity, paged listings, a simulated latency on
// every call, failures on demand and a count of calls by operation. Safe for concurrent use.
type Fake struct {
	Latency  time.Duration
	PageSize int // DescribeInstances page size; 0 honours MaxResults

	mu        sync.Mutex
	calls     map[string]int
	instances map[string]*FakeInstance
	order     []string
	fleets    map[string]*ec2.CreateFleetOutput // by client token
	dry       map[ec2fleet.Offering]string
	room      map[ec2fleet.Offering]int // pools with limited capacity: instances left
	failNext  map[string][]error
	nextID    int
}

// FakeInstance is one instance of the fake.
type FakeInstance struct {
	ID, State, InstanceType, SubnetID, Lifecycle string
	StateReason                                  string // EC2's state reason code, set when the instance ends
	Tags                                         map[string]string
	LaunchTime                                   time.Time
}

var _ ec2fleet.API = (*Fake)(nil)

// NewFake returns an empty fake.
func NewFake() *Fake {
	return &Fake{
		calls: map[string]int{}, instances: map[string]*FakeInstance{}, fleets: map[string]*ec2.CreateFleetOutput{},
		dry: map[ec2fleet.Offering]string{}, room: map[ec2fleet.Offering]int{}, failNext: map[string][]error{},
	}
}

// SetDry makes a pool answer code (e.g. InsufficientInstanceCapacity); "" restores it.
func (f *Fake) SetDry(o ec2fleet.Offering, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code == "" {
		delete(f.dry, o)
		return
	}
	f.dry[o] = code
}

// SetCapacity lets a pool start only n more instances; after that it answers
// InsufficientInstanceCapacity.
func (f *Fake) SetCapacity(o ec2fleet.Offering, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.room[o] = n
}

// FailNext makes the next call of op (e.g. "CreateFleet") fail with an API error code.
func (f *Fake) FailNext(op, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[op] = append(f.failNext[op], &smithy.GenericAPIError{Code: code, Message: "fake " + code})
}

// Calls returns call counts by operation.
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// TotalCalls returns the number of calls made.
func (f *Fake) TotalCalls() int {
	n := 0
	for _, c := range f.Calls() {
		n += c
	}
	return n
}

// Instances returns copies of the instances in a state ("" for all), in launch order.
func (f *Fake) Instances(state string) []FakeInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FakeInstance
	for _, id := range f.order {
		i := f.instances[id]
		if state == "" || i.State == state {
			c := *i
			c.Tags = maps.Clone(i.Tags)
			out = append(out, c)
		}
	}
	return out
}

func (f *Fake) enter(ctx context.Context, op string) error {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	f.mu.Lock()
	f.calls[op]++
	var err error
	if q := f.failNext[op]; len(q) > 0 {
		err, f.failNext[op] = q[0], q[1:]
	}
	f.mu.Unlock()
	return err
}

// CreateFleet launches an instant fleet over the overrides, skipping dry pools.
func (f *Fake) CreateFleet(ctx context.Context, in *ec2.CreateFleetInput, _ ...func(*ec2.Options)) (*ec2.CreateFleetOutput, error) {
	if err := f.enter(ctx, "CreateFleet"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Type != types.FleetTypeInstant {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "fake supports instant fleets only"}
	}
	token := aws.ToString(in.ClientToken)
	if out, ok := f.fleets[token]; ok && token != "" {
		return out, nil
	}
	want := int(aws.ToInt32(in.TargetCapacitySpecification.TotalTargetCapacity))
	capacity := string(in.TargetCapacitySpecification.DefaultTargetCapacityType)
	tags := map[string]string{}
	for _, ts := range in.TagSpecifications {
		if ts.ResourceType == types.ResourceTypeInstance {
			for _, t := range ts.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
	}
	out := &ec2.CreateFleetOutput{FleetId: aws.String(fmt.Sprintf("fleet-%d", len(f.fleets)+1))}
	// EC2 marks what it launched from a template; nobody else can set these keys.
	for _, lc := range in.LaunchTemplateConfigs {
		if s := lc.LaunchTemplateSpecification; s != nil {
			// The fake knows one template: any name is TemplateID's.
			tags[ghrtags.LaunchTemplateID] = cmp.Or(aws.ToString(s.LaunchTemplateId), TemplateID)
		}
	}
	tags["aws:ec2:fleet-id"] = aws.ToString(out.FleetId)
	var open []types.FleetLaunchTemplateOverridesRequest
	for _, lc := range in.LaunchTemplateConfigs {
		for _, o := range lc.Overrides {
			off := ec2fleet.Offering{InstanceType: string(o.InstanceType), SubnetID: aws.ToString(o.SubnetId), CapacityType: capacity}
			if code, dry := f.dry[off]; dry {
				out.Errors = append(out.Errors, types.CreateFleetError{
					ErrorCode: aws.String(code), ErrorMessage: aws.String("fake: no capacity"), Lifecycle: types.InstanceLifecycle(capacity),
					LaunchTemplateAndOverrides: &types.LaunchTemplateAndOverridesResponse{Overrides: &types.FleetLaunchTemplateOverrides{
						InstanceType: o.InstanceType, SubnetId: o.SubnetId,
					}},
				})
				continue
			}
			open = append(open, o)
		}
	}
	for n, next := 0, 0; n < want && len(open) > 0; n++ {
		next %= len(open)
		o := open[next]
		off := ec2fleet.Offering{InstanceType: string(o.InstanceType), SubnetID: aws.ToString(o.SubnetId), CapacityType: capacity}
		if left, limited := f.room[off]; limited {
			if left == 0 {
				out.Errors = append(out.Errors, types.CreateFleetError{
					ErrorCode: aws.String("InsufficientInstanceCapacity"), ErrorMessage: aws.String("fake: pool full"), Lifecycle: types.InstanceLifecycle(capacity),
					LaunchTemplateAndOverrides: &types.LaunchTemplateAndOverridesResponse{Overrides: &types.FleetLaunchTemplateOverrides{
						InstanceType: o.InstanceType, SubnetId: o.SubnetId,
					}},
				})
				open = slices.Delete(open, next, next+1)
				n--
				continue
			}
			f.room[off] = left - 1
		}
		next++
		f.nextID++
		id := fmt.Sprintf("i-%017x", f.nextID)
		f.instances[id] = &FakeInstance{
			ID: id, State: "pending", InstanceType: string(o.InstanceType), SubnetID: aws.ToString(o.SubnetId),
			Lifecycle: capacity, Tags: maps.Clone(tags), LaunchTime: time.Now(),
		}
		f.order = append(f.order, id)
		out.Instances = append(out.Instances, types.CreateFleetInstance{
			InstanceIds: []string{id}, InstanceType: o.InstanceType, SubnetId: o.SubnetId, Lifecycle: types.InstanceLifecycle(capacity),
		})
	}
	if token != "" {
		f.fleets[token] = out
	}
	return out, nil
}

// DescribeInstances lists instances matching state and tag filters, paged.
func (f *Fake) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := f.enter(ctx, "DescribeInstances"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []*FakeInstance
	for _, id := range f.order {
		if i := f.instances[id]; matches(i, in.Filters) {
			match = append(match, i)
		}
	}
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	size := f.PageSize
	if size == 0 {
		size = int(aws.ToInt32(in.MaxResults))
	}
	if size <= 0 {
		size = len(match) + 1
	}
	end := min(start+size, len(match))
	out := &ec2.DescribeInstancesOutput{}
	var r types.Reservation
	for _, i := range match[start:end] {
		ti := types.Instance{
			InstanceId: aws.String(i.ID), InstanceType: types.InstanceType(i.InstanceType), SubnetId: aws.String(i.SubnetID),
			LaunchTime: aws.Time(i.LaunchTime), State: &types.InstanceState{Name: types.InstanceStateName(i.State)},
		}
		if i.StateReason != "" {
			ti.StateReason = &types.StateReason{Code: aws.String(i.StateReason), Message: aws.String(i.StateReason)}
		}
		for _, k := range slices.Sorted(maps.Keys(i.Tags)) {
			ti.Tags = append(ti.Tags, types.Tag{Key: aws.String(k), Value: aws.String(i.Tags[k])})
		}
		r.Instances = append(r.Instances, ti)
	}
	if len(r.Instances) > 0 {
		out.Reservations = []types.Reservation{r}
	}
	if end < len(match) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func matches(i *FakeInstance, filters []types.Filter) bool {
	for _, flt := range filters {
		name := aws.ToString(flt.Name)
		var v string
		switch {
		case name == "instance-state-name":
			v = i.State
		case name == "instance-id":
			v = i.ID
		case strings.HasPrefix(name, "tag:"):
			var ok bool
			if v, ok = i.Tags[strings.TrimPrefix(name, "tag:")]; !ok {
				return false
			}
		default:
			return false // an unsupported filter must not silently match everything
		}
		if !slices.Contains(flt.Values, v) {
			return false
		}
	}
	return true
}

// TerminateInstances moves instances to terminated; an unknown id fails the call as EC2 does.
func (f *Fake) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	if err := f.enter(ctx, "TerminateInstances"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range in.InstanceIds {
		if _, ok := f.instances[id]; !ok {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: id}
		}
	}
	for _, id := range in.InstanceIds {
		f.instances[id].State, f.instances[id].StateReason = "terminated", userShutdown
	}
	return &ec2.TerminateInstancesOutput{}, nil
}

// CreateTags sets tags on instances.
func (f *Fake) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	if err := f.enter(ctx, "CreateTags"); err != nil {
		return nil, err
	}
	if err := refuseReserved(in.Tags); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range in.Resources {
		i, ok := f.instances[id]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: id}
		}
		for _, t := range in.Tags {
			i.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

// DeleteTags removes tag keys from instances (a value, when given, must match, as in EC2).
func (f *Fake) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	if err := f.enter(ctx, "DeleteTags"); err != nil {
		return nil, err
	}
	if err := refuseReserved(in.Tags); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range in.Resources {
		i, ok := f.instances[id]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: id}
		}
		for _, t := range in.Tags {
			k := aws.ToString(t.Key)
			if t.Value == nil || i.Tags[k] == aws.ToString(t.Value) {
				delete(i.Tags, k)
			}
		}
	}
	return &ec2.DeleteTagsOutput{}, nil
}

// refuseReserved is EC2's answer to a caller naming a tag key only AWS may set.
func refuseReserved(ts []types.Tag) error {
	for _, t := range ts {
		if k := aws.ToString(t.Key); len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
			return &smithy.GenericAPIError{Code: "InvalidParameterValue",
				Message: "Value ( " + k + " ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use"}
		}
	}
	return nil
}

// Put adds an instance as given, or replaces the one with its id: how a test seeds a world
// that scale-up did not launch. An empty state is running; a zero launch time is now.
func (f *Fake) Put(i FakeInstance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i.State == "" {
		i.State = "running"
	}
	if i.LaunchTime.IsZero() {
		i.LaunchTime = time.Now()
	}
	i.Tags = maps.Clone(i.Tags)
	if i.Tags == nil {
		i.Tags = map[string]string{}
	}
	if _, ok := f.instances[i.ID]; !ok {
		f.order = append(f.order, i.ID)
	}
	f.instances[i.ID] = &i
}

// Instance returns a copy of one instance.
func (f *Fake) Instance(id string) (FakeInstance, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.instances[id]
	if !ok {
		return FakeInstance{}, false
	}
	c := *i
	c.Tags = maps.Clone(i.Tags)
	return c, true
}

// userShutdown is EC2's state reason after TerminateInstances.
const userShutdown = "Client.UserInitiatedShutdown"

// Kill ends an instance the way EC2 itself does, with a state reason code such as
// Client.InternalError (a launch failure) or Server.SpotInstanceTermination.
func (f *Fake) Kill(id, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.instances[id]; ok {
		i.State, i.StateReason = "terminated", reason
	}
}

// SetState changes an instance's state, e.g. to running or terminated.
func (f *Fake) SetState(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.instances[id]; ok {
		i.State = state
	}
}

// SetLaunchTime backdates (or moves) an instance's launch time.
func (f *Fake) SetLaunchTime(id string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.instances[id]; ok {
		i.LaunchTime = t
	}
}
