package ec2fleet_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/tags"
)

func spec(count int) ec2fleet.Spec {
	return ec2fleet.Spec{
		LaunchTemplate: "runner", InstanceTypes: []string{"m7g.large", "c7g.large"}, SubnetIDs: []string{"subnet-a", "subnet-b"},
		CapacityType: config.CapacitySpot, AllocationStrategy: "price-capacity-optimized",
		FailoverErrors: config.DefaultFailoverErrors, Count: count,
		Tags: map[string]string{tags.Environment: "ghr", tags.CreatedBy: tags.CreatedByScaleUp, tags.JobID: "1,2,3"}, ClientToken: "tok",
	}
}

func allSpotPools() []ec2fleet.Offering {
	var out []ec2fleet.Offering
	for _, it := range []string{"m7g.large", "c7g.large"} {
		for _, sn := range []string{"subnet-a", "subnet-b"} {
			out = append(out, ec2fleet.Offering{InstanceType: it, SubnetID: sn, CapacityType: config.CapacitySpot})
		}
	}
	return out
}

func capacities(res ec2fleet.Result) []string {
	var out []string
	for _, i := range res.Instances {
		out = append(out, i.CapacityType)
	}
	return out
}

func TestFleetLaunch(t *testing.T) {
	tests := []struct {
		name       string
		dry        []ec2fleet.Offering
		dryCode    string
		spec       func() ec2fleet.Spec
		wantCaps   []string
		wantCalls  int
		wantClass  awserr.Class // of the error; -1 for none
		failedOver bool
	}{
		{
			name: "spot, every pool open", spec: func() ec2fleet.Spec { return spec(3) },
			wantCaps: []string{"spot", "spot", "spot"}, wantCalls: 1, wantClass: -1,
		},
		{
			name: "one spot pool dry: the others fill it", dry: allSpotPools()[:1], dryCode: "InsufficientInstanceCapacity",
			spec:     func() ec2fleet.Spec { return spec(3) },
			wantCaps: []string{"spot", "spot", "spot"}, wantCalls: 1, wantClass: -1,
		},
		{
			name: "every spot pool dry: on-demand", dry: allSpotPools(), dryCode: "InsufficientInstanceCapacity",
			spec:     func() ec2fleet.Spec { return spec(2) },
			wantCaps: []string{"on-demand", "on-demand"}, wantCalls: 2, wantClass: -1, failedOver: true,
		},
		{
			name: "failover disabled: shortfall", dry: allSpotPools(), dryCode: "InsufficientInstanceCapacity",
			spec:      func() ec2fleet.Spec { s := spec(2); s.FailoverErrors = []string{}; return s },
			wantCalls: 1, wantClass: awserr.Capacity,
		},
		{
			name: "code outside the failover list: no on-demand", dry: allSpotPools(), dryCode: "VcpuLimitExceeded",
			spec:      func() ec2fleet.Spec { return spec(2) },
			wantCalls: 1, wantClass: awserr.Quota,
		},
		{
			name: "every pool refuses the template: invalid config", dry: allSpotPools(), dryCode: "InvalidParameterValue",
			spec:      func() ec2fleet.Spec { return spec(2) },
			wantCalls: 1, wantClass: awserr.InvalidConfig,
		},
		{
			name: "on-demand config never asks spot", dry: allSpotPools(), dryCode: "InsufficientInstanceCapacity",
			spec: func() ec2fleet.Spec {
				s := spec(2)
				s.CapacityType, s.AllocationStrategy = config.CapacityOnDemand, "lowest-price"
				return s
			},
			wantCaps: []string{"on-demand", "on-demand"}, wantCalls: 1, wantClass: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := ec2fleettest.NewFake()
			for _, o := range tc.dry {
				fake.SetDry(o, tc.dryCode)
			}
			f := &ec2fleet.Fleet{API: fake, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)}
			res, err := f.Launch(context.Background(), tc.spec())
			if tc.wantClass < 0 && err != nil {
				t.Fatalf("Launch: %v", err)
			}
			if tc.wantClass >= 0 {
				var sf *ec2fleet.ShortfallError
				if !errors.As(err, &sf) || awserr.Classify(err) != tc.wantClass {
					t.Fatalf("err = %v (class %s), want a shortfall of class %s", err, awserr.Classify(err), tc.wantClass)
				}
			}
			if got := capacities(res); !slices.Equal(got, tc.wantCaps) {
				t.Fatalf("capacities = %v, want %v", got, tc.wantCaps)
			}
			if got := fake.Calls()["CreateFleet"]; got != tc.wantCalls {
				t.Fatalf("CreateFleet calls = %d, want %d", got, tc.wantCalls)
			}
			if res.FailedOver != tc.failedOver {
				t.Fatalf("FailedOver = %v, want %v", res.FailedOver, tc.failedOver)
			}
			for _, i := range fake.Instances("") {
				if i.Tags[tags.JobID] != "1,2,3" || i.Tags[tags.Environment] != "ghr" {
					t.Fatalf("instance %s tags = %v", i.ID, i.Tags)
				}
			}
		})
	}
}

// The cache makes the next launch skip dry pools, and go on-demand at once when every spot
// pool is dry, instead of asking the same pools again.
func TestFleetRemembersDryPools(t *testing.T) {
	now := time.Unix(0, 0)
	cache := ec2fleet.NewOfferingCache(3*time.Minute, func() time.Time { return now })
	fake := ec2fleettest.NewFake()
	for _, o := range allSpotPools() {
		fake.SetDry(o, "InsufficientInstanceCapacity")
	}
	f := &ec2fleet.Fleet{API: fake, Cache: cache}
	ctx := context.Background()
	s := spec(1)
	s.ClientToken = "" // fresh requests, not replays
	if _, err := f.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls()["CreateFleet"]; got != 2 {
		t.Fatalf("first launch: %d CreateFleet calls, want spot then on-demand", got)
	}
	res, err := f.Launch(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls()["CreateFleet"]; got != 3 || !res.FailedOver || res.Instances[0].CapacityType != "on-demand" {
		t.Fatalf("second launch: %d calls in all, result %+v; want straight to on-demand", got, res)
	}
	// After the TTL spot is asked again, and answers now that it has room.
	for _, o := range allSpotPools() {
		fake.SetDry(o, "")
	}
	now = now.Add(3 * time.Minute)
	res, err = f.Launch(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if res.FailedOver || res.Instances[0].CapacityType != "spot" {
		t.Fatalf("after TTL: %+v, want spot again", res)
	}
}

func TestFleetThrottled(t *testing.T) {
	fake := ec2fleettest.NewFake()
	fake.FailNext("CreateFleet", "RequestLimitExceeded")
	f := &ec2fleet.Fleet{API: fake, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)}
	res, err := f.Launch(context.Background(), spec(2))
	if awserr.Classify(err) != awserr.Throttling || len(res.Instances) != 0 {
		t.Fatalf("err = %v, instances %d; want throttling and nothing launched", err, len(res.Instances))
	}
}

func TestListFollowsPages(t *testing.T) {
	fake := ec2fleettest.NewFake()
	fake.PageSize = 2
	f := &ec2fleet.Fleet{API: fake}
	if _, err := f.Launch(context.Background(), spec(5)); err != nil {
		t.Fatal(err)
	}
	got, err := ec2fleet.List(context.Background(), fake, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{ec2fleettest.TemplateID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || fake.Calls()["DescribeInstances"] != 3 {
		t.Fatalf("listed %d in %d calls, want 5 in 3 pages", len(got), fake.Calls()["DescribeInstances"])
	}
}

func TestJobIDsTag(t *testing.T) {
	ids := []int64{12, 30123456789, 9223372036854775807}
	v := ec2fleet.FormatJobIDs(ids)
	if v != "12,30123456789,9223372036854775807" || !slices.Equal(ec2fleet.ParseJobIDs(v), ids) {
		t.Fatalf("round trip: %q → %v", v, ec2fleet.ParseJobIDs(v))
	}
	longest := make([]int64, ec2fleet.MaxJobsPerTag)
	for i := range longest {
		longest[i] = 9223372036854775807
	}
	if n := len(ec2fleet.FormatJobIDs(longest)); n > 256 {
		t.Fatalf("%d of the longest ids take %d characters, over EC2's 256", ec2fleet.MaxJobsPerTag, n)
	}
	if got := ec2fleet.ParseJobIDs("7,x,,-3, 8"); !slices.Equal(got, []int64{7, 8}) {
		t.Fatalf("ParseJobIDs skips junk: got %v", got)
	}
}
