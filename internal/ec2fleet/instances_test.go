package ec2fleet_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/tags"
)

var _ ec2fleet.API = (*ec2.Client)(nil)

func runTagged(t *testing.T, api *ec2.Client, w ec2fleettest.World, n int, kv map[string]string) []string {
	t.Helper()
	var ts []types.Tag
	for k, v := range kv {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := api.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(w.ImageID), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
		SubnetId:          aws.String(w.SubnetIDs[0]),
		LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.LaunchTemplateID)},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: ts}},
	})
	if err != nil {
		t.Fatalf("run instances: %v", err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

func ids(is []ec2fleet.Instance) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

func TestListTagTerminate(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	api := ec2.NewFromConfig(motoserver.Start(t).AWSConfig())
	w := ec2fleettest.Setup(t, api)

	a := runTagged(t, api, w, 3, map[string]string{tags.Environment: "ghr", tags.CreatedBy: tags.CreatedByScaleUp, tags.RunnerConfig: "linux", tags.Owner: "octo"})
	b := runTagged(t, api, w, 2, map[string]string{tags.Environment: "ghr", tags.CreatedBy: tags.CreatedByPool, tags.RunnerConfig: "arm", tags.Owner: "octo/app"})
	runTagged(t, api, w, 2, map[string]string{tags.Environment: "other", tags.RunnerConfig: "linux", tags.Owner: "octo"})

	all, err := ec2fleet.List(ctx, api, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{w.LaunchTemplateID}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(all), slices.Sorted(slices.Values(append(slices.Clone(a), b...))); !slices.Equal(got, want) {
		t.Fatalf("environment listing = %v, want %v", got, want)
	}
	for _, i := range all {
		if i.State == "" || i.LaunchTime.IsZero() || i.Tags[tags.Environment] != "ghr" {
			t.Fatalf("instance %+v lacks state, launch time or tags", i)
		}
	}

	linux, err := ec2fleet.List(ctx, api, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{w.LaunchTemplateID}, RunnerConfig: "linux", Owner: "octo"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(linux); !slices.Equal(got, slices.Sorted(slices.Values(a))) {
		t.Fatalf("config+owner listing = %v, want %v", got, a)
	}

	both, err := ec2fleet.List(ctx, api, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{w.LaunchTemplateID},
		AnyOf: map[string][]string{tags.RunnerConfig: {"linux", "arm"}, tags.Owner: {"octo/app", "nobody"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(both); !slices.Equal(got, slices.Sorted(slices.Values(b))) {
		t.Fatalf("any-of listing = %v, want %v (config linux or arm, owner octo/app or nobody)", got, b)
	}

	if err := ec2fleet.Tag(ctx, api, a[:1], map[string]string{tags.Orphan: "2026-01-01T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	orphans, err := ec2fleet.List(ctx, api, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{w.LaunchTemplateID}, Tags: map[string]string{tags.Orphan: "2026-01-01T00:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(orphans); !slices.Equal(got, a[:1]) {
		t.Fatalf("tagged listing = %v, want %v", got, a[:1])
	}

	if err := ec2fleet.Terminate(ctx, api, a); err != nil {
		t.Fatal(err)
	}
	left, err := ec2fleet.List(ctx, api, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{w.LaunchTemplateID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(left); !slices.Equal(got, slices.Sorted(slices.Values(b))) {
		t.Fatalf("after terminate = %v, want only %v", got, b)
	}
}

func TestListRequiresEnvironment(t *testing.T) {
	if _, err := ec2fleet.List(context.Background(), nil, ec2fleet.Filter{RunnerConfig: "linux"}); err == nil {
		t.Fatal("listing without environment must fail: it would span deployments")
	}
}
