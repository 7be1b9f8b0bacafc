package scaleup_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/interruption"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

// records is a fixed interruption state.
type records []interruption.Record

func (r records) List(context.Context) ([]interruption.Record, error) { return r, nil }

// A spot config launches on-demand while its breaker is open and for the next attempt of a
// run re-run after an interruption; otherwise on spot.
func TestLaunchHonoursSpotBreaker(t *testing.T) {
	now := time.Now()
	state := records{
		{InstanceID: "i-00000000000000001", Config: "tripped", At: now.Add(-10 * time.Minute)},
		{InstanceID: "i-00000000000000002", Config: "tripped", At: now.Add(-2 * time.Minute)},
		{InstanceID: "i-00000000000000003", Config: "small", At: now.Add(-2 * time.Minute),
			Rerun: &interruption.Rerun{Repo: "octo/app", RunID: 77, JobID: 5, At: now.Add(-time.Minute)}},
	}
	cases := []struct {
		config string
		runs   []runner.Run
		want   string
	}{
		{"small", []runner.Run{{Repo: "octo/app", ID: 1}}, config.CapacitySpot},
		{"tripped", []runner.Run{{Repo: "octo/app", ID: 1}}, config.CapacityOnDemand},
		{"small", []runner.Run{{Repo: "octo/app", ID: 1}, {Repo: "octo/app", ID: 77}}, config.CapacityOnDemand},
	}
	for _, c := range cases {
		fake := ec2fleettest.NewFake()
		compute := &scaleup.EC2Compute{API: fake, Fleet: &ec2fleet.Fleet{API: fake, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)},
			Environment: "ghr", Capacity: &interruption.Gate{Store: state, Breaker: interruption.DefaultBreaker}}
		cfg := &config.RunnerConfig{Key: c.config, LaunchTemplate: "lt", InstanceTypes: []string{"m5.large"}, SubnetIDs: []string{"subnet-1"},
			CapacityType: config.CapacitySpot, AllocationStrategy: "price-capacity-optimized"}
		ids, err := compute.Launch(context.Background(), runner.LaunchSpec{Config: cfg, Owner: runner.Owner{Level: "org", Name: "octo"},
			CreatedBy: "scale-up", JobIDs: []int64{1}, Runs: c.runs, Count: 1})
		if err != nil || len(ids) != 1 {
			t.Fatalf("%s %v: launch %v %v", c.config, c.runs, ids, err)
		}
		if got, _ := fake.Instance(ids[0]); got.Lifecycle != c.want {
			t.Errorf("%s %v: launched %s, want %s", c.config, c.runs, got.Lifecycle, c.want)
		}
	}
}
