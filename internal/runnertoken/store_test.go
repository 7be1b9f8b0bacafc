package runnertoken_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/tags"
)

var _ runnertoken.API = (*ssm.Client)(nil)

func TestStoreRoundTrip(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	api := ssm.NewFromConfig(motoserver.Shared(t).AWSConfig())
	s := runnertoken.Store{API: api, Prefix: "ghr"}

	for _, p := range []struct{ config, id string }{{"linux", "i-0001"}, {"linux", "i-0002"}, {"arm", "i-0003"}} {
		if err := s.Put(ctx, p.config, p.id, "jit-"+p.id); err != nil {
			t.Fatal(err)
		}
	}
	// A retried registration for the same instance is not an error.
	if err := s.Put(ctx, "linux", "i-0001", "jit-again"); err != nil {
		t.Fatalf("second put: %v", err)
	}
	// A parameter outside the token layout is never listed or touched.
	if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/ghr/runners/linux/settings"), Value: aws.String("x"), Type: types.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}

	name := runnertoken.Path("ghr", "linux", "i-0001")
	got, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Parameter.Type != types.ParameterTypeSecureString || aws.ToString(got.Parameter.Value) != "jit-i-0001" {
		t.Fatalf("parameter = %s %q, want the first SecureString value", got.Parameter.Type, aws.ToString(got.Parameter.Value))
	}
	tg, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceId: aws.String(name), ResourceType: types.ResourceTypeForTaggingParameter})
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.TagList) != 1 || aws.ToString(tg.TagList[0].Key) != tags.InstanceID || aws.ToString(tg.TagList[0].Value) != "i-0001" {
		t.Fatalf("tags = %+v, want %s=i-0001", tg.TagList, tags.InstanceID)
	}

	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceIDs(all); !slices.Equal(got, []string{"i-0001", "i-0002", "i-0003"}) {
		t.Fatalf("List(all) = %v", got)
	}
	for _, tok := range all {
		if tok.LastModified.IsZero() || tok.Name != runnertoken.Path("ghr", tok.Config, tok.InstanceID) {
			t.Fatalf("token %+v: want name matching its path and a modification time", tok)
		}
	}
	linux, err := s.List(ctx, "linux")
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceIDs(linux); !slices.Equal(got, []string{"i-0001", "i-0002"}) {
		t.Fatalf("List(linux) = %v", got)
	}

	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Fatalf("deleting a parameter already gone: %v", err)
	}
	if err := s.DeleteAll(ctx, []string{runnertoken.Path("ghr", "linux", "i-0002"), runnertoken.Path("ghr", "arm", "i-0003"), runnertoken.Path("ghr", "arm", "i-gone")}); err != nil {
		t.Fatal(err)
	}
	left, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("after deletes: %v", instanceIDs(left))
	}
}

func instanceIDs(ts []runnertoken.Token) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.InstanceID)
	}
	slices.Sort(out)
	return out
}
