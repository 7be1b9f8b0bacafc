package runnertoken_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

func TestTierBoundaries(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want types.ParameterTier
	}{
		{1, types.ParameterTierStandard},
		{runnertoken.StandardMaxValue, types.ParameterTierStandard},
		{runnertoken.StandardMaxValue + 1, types.ParameterTierAdvanced},
		{runnertoken.AdvancedMaxValue, types.ParameterTierAdvanced},
		{runnertoken.AdvancedMaxValue + 1, ""},
	} {
		got, err := runnertoken.Tier(strings.Repeat("A", tc.n))
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("Tier(%d chars) = %q, %v; want %q", tc.n, got, err, tc.want)
		}
	}
}

// TestStorePutRealisticJIT stores a JIT config of GitHub's real size (over 4,096 characters)
// with one write, in the tier that holds it; a small registration document stays Standard.
func TestStorePutRealisticJIT(t *testing.T) {
	ctx := context.Background()
	api := &countingSSM{Client: ssm.NewFromConfig(motoserver.Shared(t).AWSConfig())}
	s := runnertoken.Store{API: api, Prefix: "ghr"}

	jit := realisticJIT(t)
	if n := len(jit); n <= runnertoken.StandardMaxValue || n > runnertoken.AdvancedMaxValue {
		t.Fatalf("realistic JIT config is %d characters; GitHub's are ~4.1-5 KB", n)
	}
	doc := "ghr-registration-v1\nurl=https://github.com/octo-org\ntoken=AABBCCDDEEFF\nname=ghr-i-0002\n"

	for _, c := range []struct {
		id, value string
		tier      types.ParameterTier
	}{{"i-0001", jit, types.ParameterTierAdvanced}, {"i-0002", doc, types.ParameterTierStandard}} {
		before := api.puts.Load()
		if err := s.Put(ctx, "linux", c.id, c.value); err != nil {
			t.Fatalf("put %s: %v", c.id, err)
		}
		if n := api.puts.Load() - before; n != 1 {
			t.Fatalf("put %s: %d PutParameter calls, want 1", c.id, n)
		}
		name := runnertoken.Path("ghr", "linux", c.id)
		got, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(got.Parameter.Value) != c.value {
			t.Fatalf("%s: value changed in storage", c.id)
		}
		d, err := api.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Parameters) != 1 || d.Parameters[0].Tier != c.tier {
			t.Fatalf("%s (%d chars): described %+v, want tier %s", c.id, len(c.value), d.Parameters, c.tier)
		}
	}

	// A value no tier holds fails before any call, with the limit in the error.
	before := api.puts.Load()
	err := s.Put(ctx, "linux", "i-0003", strings.Repeat("A", runnertoken.AdvancedMaxValue+1))
	if err == nil || !strings.Contains(err.Error(), "8192") {
		t.Fatalf("oversized put: %v, want an error naming the 8192-character limit", err)
	}
	if api.puts.Load() != before {
		t.Fatal("oversized put spent a PutParameter call")
	}
}

type countingSSM struct {
	*ssm.Client
	puts atomic.Int32
}

func (c *countingSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	c.puts.Add(1)
	return c.Client.PutParameter(ctx, in, opts...)
}

// realisticJIT builds an encoded_jit_config shaped as GitHub's: base64 of a JSON object whose
// .runner, .credentials and .credentials_rsaparams are base64 of the JSON files the runner
// writes, the RSA parameters those of a 2048-bit key.
func realisticJIT(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key.Precompute()
	b := func(v []byte) string { return base64.StdEncoding.EncodeToString(v) }
	file := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b(raw)
	}
	const pipelines = "https://pipelines.actions.githubusercontent.com/6qN1ZBbyRmBnMIDXmDQQdJ7Xwmh4Jb1OybkLflQtGQ9PbF6EYS/"
	runner := file(map[string]any{
		"AgentId": 1234567, "AgentName": "ghr-i-0123456789abcdef0", "PoolId": 1, "PoolName": "Default",
		"ServerUrl": pipelines, "ServerUrlV2": "https://broker.actions.githubusercontent.com/",
		"GitHubUrl": "https://github.com/octo-org", "WorkFolder": "_work", "Ephemeral": true, "UseV2Flow": true,
	})
	creds := file(map[string]any{"Scheme": "OAuth", "Data": map[string]string{
		"ClientId":                "8a3b1f4e-5c6d-4e7f-9a0b-1c2d3e4f5a6b",
		"AuthorizationUrl":        "https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/6a2f1e3d-4c5b-6a7f-8e9d-0c1b2a3f4e5d",
		"OAuthEndpointUrl":        "https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/6a2f1e3d-4c5b-6a7f-8e9d-0c1b2a3f4e5d",
		"RequireFipsCryptography": "False",
	}})
	rsaParams := file(map[string]string{
		"d": b(key.D.Bytes()), "dp": b(key.Precomputed.Dp.Bytes()), "dq": b(key.Precomputed.Dq.Bytes()),
		"exponent": "AQAB", "inverseQ": b(key.Precomputed.Qinv.Bytes()), "modulus": b(key.N.Bytes()),
		"p": b(key.Primes[0].Bytes()), "q": b(key.Primes[1].Bytes()),
	})
	return file(map[string]string{".runner": runner, ".credentials": creds, ".credentials_rsaparams": rsaParams})
}
