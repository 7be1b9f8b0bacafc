package sandbox

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// hostCannotReadAnotherHostsToken: with the deployed module's runner policy, a host's own
// credentials (the instance-profile session a real boot gets from IMDS, which carries
// ec2:SourceInstanceARN) read and delete its own token and are refused another host's,
// whatever the job on it tries.
func hostCannotReadAnotherHostsToken(t *testing.T, sb *Sandbox) {
	ctx := context.Background()
	const own, other = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"
	key := sb.Deployment.Functions[sb.Opts.Prefix+"-scale-up"].Env["TOKEN_KMS_KEY_ID"] // as scale-up writes them
	store := runnertoken.Store{API: ssm.NewFromConfig(motoproc.AWSConfig(sb.ProxyURL)), Prefix: sb.Opts.Prefix, KMSKeyID: key}
	for _, id := range []string{own, other} {
		if err := store.Put(ctx, "small", id, "jit-config-of-"+id); err != nil {
			t.Fatal(err)
		}
	}
	defer store.Remove(context.WithoutCancel(ctx), "small", other) //nolint:errcheck // best effort

	host := ssm.NewFromConfig(runnerSession(t, sb, own))
	_, err := host.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(runnertoken.Path(sb.Opts.Prefix, "small", other)), WithDecryption: aws.Bool(true)})
	wantAccessDenied(t, "reading another host's token", err)
	_, err = host.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(runnertoken.Path(sb.Opts.Prefix, "small", other))})
	wantAccessDenied(t, "deleting another host's token", err)
	out, err := host.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(runnertoken.Path(sb.Opts.Prefix, "small", own)), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(out.Parameter.Value) != "jit-config-of-"+own {
		t.Fatalf("reading its own token: %v", err)
	}
	if _, err := host.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(runnertoken.Path(sb.Opts.Prefix, "small", own))}); err != nil {
		t.Fatalf("deleting its own token: %v", err)
	}
}

// runnerSession is the runner role's session for one instance, as a real boot gets it from
// IMDS (the proxy's session carries ec2:SourceInstanceARN for that instance).
func runnerSession(t *testing.T, sb *Sandbox, instanceID string) aws.Config {
	t.Helper()
	ctx := context.Background()
	role, err := iam.NewFromConfig(motoproc.HarnessConfig(sb.Moto)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(sb.Opts.Prefix + "-runner")})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sb.Proxy.Credentials(ctx, aws.ToString(role.Role.Arn), instanceID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := motoproc.AWSConfig(sb.ProxyURL)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	return cfg
}

func wantAccessDenied(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("%s: %v, want AccessDeniedException", what, err)
	}
}
