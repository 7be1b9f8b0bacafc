package interruption

import (
	"context"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/tags"
)

// TestEC2IgnoresForgedOwnershipTag: an EventBridge event names any instance of the account.
// One launched outside the deployment and tagged with every ghr tag is not ours, because EC2
// never gave it the deployment's launch template id; its twin from the template is.
func TestEC2IgnoresForgedOwnershipTag(t *testing.T) {
	fake := ec2fleettest.NewFake()
	for _, r := range []ec2fleettest.Runner{
		{ID: "i-0f000001", NoTemplate: true},
		{ID: "i-0e000001"},
	} {
		r.Environment, r.Config, r.Level, r.Owner, r.LaunchTime = "ghr", "small", tags.TypeOrg, "octo", time.Now().Add(-time.Minute)
		fake.PutRunner(r)
	}
	fleet := EC2{API: fake, Prefix: "ghr", LaunchTemplates: []string{ec2fleettest.TemplateID}}
	ctx := context.Background()
	if _, ok, err := fleet.Instance(ctx, "i-0f000001"); err != nil || ok {
		t.Fatalf("forged instance: ours = %v, err = %v; want not ours", ok, err)
	}
	if inst, ok, err := fleet.Instance(ctx, "i-0e000001"); err != nil || !ok || inst.RunnerConfig != "small" {
		t.Fatalf("own instance: %+v, ours = %v, err = %v", inst, ok, err)
	}
	if _, _, err := (EC2{API: fake, Prefix: "ghr"}).Instance(ctx, "i-0e000001"); err == nil {
		t.Fatal("a lookup without the deployment's launch template ids must be refused")
	}
}
