package awsproxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// sessionSeconds is the life of credentials Credentials hands out: a role's default maximum
// session, longer than any sandbox run.
const sessionSeconds = 3600

// Credentials assumes roleARN in the emulator (STS AssumeRole, as Lambda and EC2 do for a
// function's or an instance profile's role) and remembers the key as that role's, so the
// proxy evaluates IAM for its calls as AWS does (authz.go). The
// sandbox gives each function its own role's credentials; simulated runner hosts can use
// the runner role's the same way.
func (p *Proxy) Credentials(ctx context.Context, roleARN, session string) (aws.Credentials, error) {
	out, err := sts.NewFromConfig(motoproc.HarnessConfig(p.target.String())).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(sessionSeconds)})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("assume %s: %w", roleARN, err)
	}
	c := out.Credentials
	p.mu.Lock()
	p.roles[aws.ToString(c.AccessKeyId)] = caller{Role: roleARN, Session: session}
	p.mu.Unlock()
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration)}, nil
}

// callerOf is the role session whose credentials signed r, with the region of its credential
// scope; ok is false for the harness's own static credentials, which the proxy trusts like an
// administrator.
func (p *Proxy) callerOf(r *http.Request) (c caller, ok bool) {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return caller{}, false
	}
	parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
	if len(parts) < 3 {
		return caller{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok = p.roles[parts[0]]
	c.Region = parts[2]
	return c, ok
}
