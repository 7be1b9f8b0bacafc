package motoproc_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// launch runs n instances tagged kv and returns their ids.
func launch(tb testing.TB, ec *ec2.Client, n int32, kv map[string]string) []string {
	tb.Helper()
	ctx := context.Background()
	imgs, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) == 0 {
		tb.Fatalf("images: %v", err)
	}
	var ts []ec2types.Tag
	for k, v := range kv {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, MinCount: aws.Int32(n), MaxCount: aws.Int32(n),
		InstanceType: ec2types.InstanceTypeM5Large, TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ts}}})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, in := range out.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	return ids
}

func describe(tb testing.TB, ec *ec2.Client, filters map[string][]string) []string {
	tb.Helper()
	var fs []ec2types.Filter
	for k, v := range filters {
		fs = append(fs, ec2types.Filter{Name: aws.String(k), Values: v})
	}
	out, err := ec.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: fs})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	slices.Sort(ids)
	return ids
}

// TestPatchedServerFiltersByTagAsMotoDoes: serve.py reads a resource's own tags instead of
// scanning every tag; tag filters, tag-key filters, wildcards and DescribeTags answer as
// before, and another resource's tags never count.
func TestPatchedServerFiltersByTagAsMotoDoes(t *testing.T) {
	ctx := context.Background()
	ec := ec2.NewFromConfig(motoproc.AWSConfig(motoserver.Start(t).URL))
	a := launch(t, ec, 1, map[string]string{"env": "ghr-a", "cfg": "small"})[0]
	b := launch(t, ec, 1, map[string]string{"env": "ghr-a", "cfg": "large"})[0]
	c := launch(t, ec, 1, map[string]string{"env": "other"})[0]
	vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("vpcs: %v", err)
	}
	if _, err := ec.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(vpcs.Vpcs[0].VpcId)},
		Tags: []ec2types.Tag{{Key: aws.String("cfg"), Value: aws.String("small")}}}); err != nil {
		t.Fatal(err)
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, tt := range []struct {
		name    string
		filters map[string][]string
		want    []string
	}{
		{"tag value", map[string][]string{"tag:env": {"ghr-a"}}, sorted(a, b)},
		{"wildcard", map[string][]string{"tag:env": {"ghr-*"}}, sorted(a, b)},
		{"two tags", map[string][]string{"tag:env": {"ghr-a"}, "tag:cfg": {"large"}}, sorted(b)},
		{"tag key", map[string][]string{"tag-key": {"cfg"}}, sorted(a, b)},
		{"tag value, any key", map[string][]string{"tag-value": {"other"}}, sorted(c)},
		{"no such value", map[string][]string{"tag:env": {"nope"}}, nil},
		{"tag and state", map[string][]string{"tag:env": {"other"}, "instance-state-name": {"pending", "running"}}, sorted(c)},
	} {
		if got := describe(t, ec, tt.filters); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	tags, err := ec.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{a}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range tags.Tags {
		if tg.ResourceType != ec2types.ResourceTypeInstance {
			t.Errorf("tag %s: resource type %q", aws.ToString(tg.Key), tg.ResourceType)
		}
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]string{"env": "ghr-a", "cfg": "small"}) {
		t.Errorf("DescribeTags of %s: %v", a, got)
	}
}

// BenchmarkTagFilterAmong500Instances is the call the sandbox's hosts make ten times a
// second, and the functions on every count: a DescribeInstances by tag and state with 500
// instances in the emulator, most terminated (moto keeps them listed). Unpatched moto
// 5.2.1 took ~595 ms per call here; serve.py's own-tags lookup ~25 ms.
func BenchmarkTagFilterAmong500Instances(b *testing.B) {
	ctx := context.Background()
	ec := ec2.NewFromConfig(motoproc.AWSConfig(motoserver.Start(b).URL))
	var ids []string
	for range 5 {
		ids = append(ids, launch(b, ec, 100, map[string]string{"ghr:environment": "ghr-local", "ghr:runner-config": "small",
			"ghr:owner": "octo-org", "ghr:type": "org", "ghr:created-by": "scale-up", "Name": "runner"})...)
	}
	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:490]}); err != nil {
		b.Fatal(err)
	}
	filters := map[string][]string{"tag:ghr:environment": {"ghr-local"}, "instance-state-name": {"pending", "running"}}
	for b.Loop() {
		if got := describe(b, ec, filters); len(got) != 10 {
			b.Fatalf("%d live instances, want 10", len(got))
		}
	}
}
