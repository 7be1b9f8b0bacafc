package awsproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// sessionSeconds is the life of credentials Credentials hands out: a role's default maximum
// session, longer than any sandbox run.
const sessionSeconds = 3600

// Credentials assumes roleARN in the emulator (STS AssumeRole, as Lambda and EC2 do for a
// function's or an instance profile's role) and remembers the key as that role's, so the
// proxy evaluates for its calls the rules moto cannot (KMS key use for EBS today). The
// sandbox gives each function its own role's credentials; simulated runner hosts can use
// the runner role's the same way.
func (p *Proxy) Credentials(ctx context.Context, roleARN, session string) (aws.Credentials, error) {
	out, err := sts.NewFromConfig(motoproc.AWSConfig(p.target.String())).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(sessionSeconds)})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("assume %s: %w", roleARN, err)
	}
	c := out.Credentials
	p.mu.Lock()
	p.roles[aws.ToString(c.AccessKeyId)] = roleARN
	p.mu.Unlock()
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration)}, nil
}

// caller is the role whose credentials signed r, and the region of its credential scope;
// "" for the harness's own static credentials, which the proxy trusts like an
// administrator.
func (p *Proxy) caller(r *http.Request) (role, region string) {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return "", ""
	}
	parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
	if len(parts) < 3 {
		return "", ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roles[parts[0]], parts[2]
}

// rolePolicies reads a role's identity policies, inline and attached, from the emulator.
func (p *Proxy) rolePolicies(ctx context.Context, roleARN string) ([]PolicyDocument, error) {
	name := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	c := iam.NewFromConfig(motoproc.AWSConfig(p.target.String()))
	var docs []string
	inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("role %s policies: %w", name, err)
	}
	for _, pn := range inline.PolicyNames {
		out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return nil, fmt.Errorf("role %s policy %s: %w", name, pn, err)
		}
		docs = append(docs, aws.ToString(out.PolicyDocument))
	}
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("role %s attached policies: %w", name, err)
	}
	for _, ap := range attached.AttachedPolicies {
		pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: ap.PolicyArn})
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", aws.ToString(ap.PolicyArn), err)
		}
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: ap.PolicyArn, VersionId: pol.Policy.DefaultVersionId})
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", aws.ToString(ap.PolicyArn), err)
		}
		docs = append(docs, aws.ToString(v.PolicyVersion.Document))
	}
	out := make([]PolicyDocument, 0, len(docs))
	for _, d := range docs {
		if u, err := url.QueryUnescape(d); err == nil && strings.HasPrefix(strings.TrimSpace(u), "{") {
			d = u // IAM returns documents URL-encoded
		}
		pd, err := ParsePolicy(d)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", name, err)
		}
		out = append(out, pd)
	}
	return out, nil
}
