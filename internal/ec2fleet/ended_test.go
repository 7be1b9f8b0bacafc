package ec2fleet_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
)

// TestKilled: only EC2's own reasons, or an instance EC2 no longer knows, count as killed;
// a live instance is not ended at all.
func TestKilled(t *testing.T) {
	f := ec2fleettest.NewFake()
	for _, id := range []string{"i-live", "i-self", "i-user", "i-kms", "i-spot", "i-noreason"} {
		f.Put(ec2fleettest.FakeInstance{ID: id})
	}
	f.Kill("i-self", "Client.InstanceInitiatedShutdown")
	f.Kill("i-user", "Client.UserInitiatedShutdown")
	f.Kill("i-kms", "Client.InternalError")
	f.Kill("i-spot", "Server.SpotInstanceTermination")
	f.SetState("i-noreason", "terminated")
	ids := []string{"i-live", "i-self", "i-user", "i-kms", "i-spot", "i-noreason", "i-forgotten"}
	got, err := ec2fleet.Killed(context.Background(), f, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-forgotten", "i-kms", "i-noreason", "i-spot"}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
		t.Errorf("Killed = %v, want %v", keys, want)
	}
	if n := f.Calls()["DescribeInstances"]; n != 1 {
		t.Errorf("%d DescribeInstances calls, want 1", n)
	}
}
