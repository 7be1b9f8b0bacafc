package awsproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// ssmThroughProxy is an SSM client that does not retry, so each limit shows on the call
// that met it.
func ssmThroughProxy(t *testing.T) (*Proxy, *ssm.Client) {
	t.Helper()
	p, err := New(motoserver.Shared(t).URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	cfg := motoproc.AWSConfig(srv.URL)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return p, ssm.NewFromConfig(cfg)
}

func apiCode(err error) string {
	var e smithy.APIError
	if errors.As(err, &e) {
		return e.ErrorCode()
	}
	return fmt.Sprint(err)
}

func TestSSMValueSizeByTier(t *testing.T) {
	ctx := context.Background()
	p, sm := ssmThroughProxy(t)
	p.SetSSMLimits(SSMLimits{GetTPS: 1e6, PutTPS: 1e6})
	jit := strings.Repeat("A", 4204) // the simulator's encoded_jit_config size
	put := func(name, value string, tier types.ParameterTier) error {
		_, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: types.ParameterTypeSecureString, Tier: tier, Overwrite: aws.Bool(true)})
		return err
	}
	for _, c := range []struct {
		name, value string
		tier        types.ParameterTier
		want        string
	}{
		{"/t/no-tier-fits", strings.Repeat("é", StandardValueMax), "", ""}, // characters, not bytes
		{"/t/no-tier-jit", jit, "", "ValidationException"},
		{"/t/standard-jit", jit, types.ParameterTierStandard, "ValidationException"},
		{"/t/advanced-jit", jit, types.ParameterTierAdvanced, ""},
		{"/t/intelligent-jit", jit, types.ParameterTierIntelligentTiering, ""},
		{"/t/advanced-too-big", strings.Repeat("A", AdvancedValueMax+1), types.ParameterTierAdvanced, "ValidationException"},
		{"/t/advanced-jit", "small", types.ParameterTierStandard, "ValidationException"}, // no downgrade
		{"/t/advanced-jit", jit, "", ""},                                                 // an update without a tier keeps Advanced
	} {
		err := put(c.name, c.value, c.tier)
		if got := apiCode(err); (c.want == "" && err != nil) || (c.want != "" && got != c.want) {
			t.Errorf("put %s (%d chars, tier %q) = %v, want %q", c.name, len(c.value), c.tier, err, c.want)
		}
	}
	_, err := sm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/t/no-tier-jit")})
	if apiCode(err) != "ParameterNotFound" {
		t.Fatalf("a refused value was stored: %v", err)
	}
	if p.Limited()["ssm:PutParameter ValidationException"] != 4 {
		t.Fatalf("limited = %v", p.Limited())
	}
}

func TestSSMStandardParameterCount(t *testing.T) {
	ctx := context.Background()
	p, sm := ssmThroughProxy(t)
	p.SetSSMLimits(SSMLimits{StandardParameters: 3, GetTPS: 1e6, PutTPS: 1e6})
	put := func(name string, tier types.ParameterTier) (types.ParameterTier, error) {
		out, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"),
			Type: types.ParameterTypeString, Tier: tier, Overwrite: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return out.Tier, nil
	}
	for i := range 3 {
		if _, err := put(fmt.Sprint("/c/", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := put("/c/0", ""); err != nil {
		t.Fatalf("overwriting a Standard parameter at the limit: %v", err)
	}
	if _, err := put("/c/new", ""); apiCode(err) != "ParameterLimitExceeded" {
		t.Fatalf("fourth Standard parameter: %v, want ParameterLimitExceeded", err)
	}
	if _, err := put("/c/smart", types.ParameterTierIntelligentTiering); err != nil {
		t.Fatalf("Intelligent-Tiering at the Standard limit must pick Advanced: %v", err)
	}
	if _, err := sm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/c/1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := put("/c/new", ""); err != nil {
		t.Fatalf("a deletion frees a Standard slot: %v", err)
	}
}

func TestSSMThroughput(t *testing.T) {
	ctx := context.Background()
	p, sm := ssmThroughProxy(t)
	if _, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/r"), Value: aws.String("v"), Type: types.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	// AWS's default throughput with one second of burst. The clock stands still, so exactly
	// the burst passes whatever the machine's speed (on CI's loaded cores a real-clock loop
	// ran slower than 40 gets a second and was never throttled).
	frozen := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	p.mu.Lock()
	p.ssm = newSSMRules(SSMLimits{}, func() time.Time { return frozen })
	p.mu.Unlock()
	var gets, puts int
	for range GetTPS * 3 {
		if _, err := sm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/r")}); apiCode(err) == "ThrottlingException" {
			gets++
		}
	}
	for i := range PutTPS * 4 {
		if _, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(fmt.Sprint("/w", i)), Value: aws.String("v"), Type: types.ParameterTypeString}); apiCode(err) == "ThrottlingException" {
			puts++
		}
	}
	if gets != GetTPS*2 || puts != PutTPS*3 || p.Limited()["ssm:GetParameter ThrottlingException"] != gets {
		t.Fatalf("throttled %d gets and %d puts (limited %v); want %d and %d: all but one second's worth", gets, puts, p.Limited(), GetTPS*2, PutTPS*3)
	}
}
