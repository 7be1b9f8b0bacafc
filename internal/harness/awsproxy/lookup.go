package awsproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/ghr-dev/ghr/internal/harness/iameval"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// policyTTL is how long the proxy reuses a role's or a resource's policies read from the
// emulator: AWS itself takes seconds to apply a policy change everywhere, and reading them
// for every call would double the emulator's load. Tests that change a policy mid-way call
// ForgetPolicies.
const policyTTL = 2 * time.Second

type memoEntry struct {
	at time.Time
	v  any
}

// memo returns load()'s value for key, reused for policyTTL.
func (p *Proxy) memo(key string, load func() (any, error)) (any, error) {
	p.mu.Lock()
	e, ok := p.memos[key]
	p.mu.Unlock()
	if ok && time.Since(e.at) < policyTTL {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.memos[key] = memoEntry{at: time.Now(), v: v}
	p.mu.Unlock()
	return v, nil
}

func (p *Proxy) forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.memos, key)
}

// ForgetPolicies drops every policy read so far, so the next call reads them again.
func (p *Proxy) ForgetPolicies() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.memos)
}

// admin is the harness's own view of the emulator (static credentials, trusted).
func (p *Proxy) admin(region string) aws.Config {
	cfg := motoproc.HarnessConfig(p.target.String())
	if region != "" {
		cfg.Region = region
	}
	return cfg
}

// rolePolicies are a role's identity policies (inline and attached) and its permissions
// boundary, read from the emulator.
type rolePolicies struct {
	identity, boundary []iameval.Policy
}

func (p *Proxy) rolePolicies(ctx context.Context, roleARN string) (rolePolicies, error) {
	v, err := p.memo("role "+roleARN, func() (any, error) { return p.readRolePolicies(ctx, roleARN) })
	if err != nil {
		return rolePolicies{}, err
	}
	return v.(rolePolicies), nil
}

func (p *Proxy) readRolePolicies(ctx context.Context, roleARN string) (rolePolicies, error) {
	name := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	c := iam.NewFromConfig(p.admin(""))
	var out []iameval.Policy
	managed := func(arn *string) (string, error) {
		pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
		if err != nil {
			return "", fmt.Errorf("policy %s: %w", aws.ToString(arn), err)
		}
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: pol.Policy.DefaultVersionId})
		if err != nil {
			return "", fmt.Errorf("policy %s: %w", aws.ToString(arn), err)
		}
		return aws.ToString(v.PolicyVersion.Document), nil
	}
	add := func(label, doc string) error {
		if u, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(u), "{") {
			doc = u // IAM returns documents URL-encoded
		}
		if !json.Valid([]byte(doc)) {
			return fmt.Errorf("role %s policy %s is not JSON", name, label)
		}
		out = append(out, iameval.Policy{Name: label, Document: json.RawMessage(doc)})
		return nil
	}
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return rolePolicies{}, fmt.Errorf("role %s: %w", name, err)
	}
	var rp rolePolicies
	if b := role.Role.PermissionsBoundary; b != nil && b.PermissionsBoundaryArn != nil {
		doc, err := managed(b.PermissionsBoundaryArn)
		if err != nil {
			return rolePolicies{}, err
		}
		if err := add(aws.ToString(b.PermissionsBoundaryArn), doc); err != nil {
			return rolePolicies{}, err
		}
		rp.boundary, out = out, nil
	}
	inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return rolePolicies{}, fmt.Errorf("role %s policies: %w", name, err)
	}
	for _, pn := range inline.PolicyNames {
		got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return rolePolicies{}, fmt.Errorf("role %s policy %s: %w", name, pn, err)
		}
		if err := add(pn, aws.ToString(got.PolicyDocument)); err != nil {
			return rolePolicies{}, err
		}
	}
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return rolePolicies{}, fmt.Errorf("role %s attached policies: %w", name, err)
	}
	for _, ap := range attached.AttachedPolicies {
		doc, err := managed(ap.PolicyArn)
		if err != nil {
			return rolePolicies{}, err
		}
		if err := add(aws.ToString(ap.PolicyArn), doc); err != nil {
			return rolePolicies{}, err
		}
	}
	rp.identity = out
	return rp, nil
}

// key is what IAM evaluation needs of a KMS key.
type key struct {
	ARN        string
	Policy     json.RawMessage
	AWSManaged bool // EC2, SSM and S3 may always use an AWS-managed key for the account
}

// kmsKey resolves a key id, ARN or alias in region.
func (p *Proxy) kmsKey(ctx context.Context, region, keyID string) (key, error) {
	v, err := p.memo("key "+region+" "+keyID, func() (any, error) {
		c := kms.NewFromConfig(p.admin(region))
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", keyID, err)
		}
		k := key{ARN: aws.ToString(d.KeyMetadata.Arn), AWSManaged: d.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeAws}
		if !k.AWSManaged {
			if k.AWSManaged, err = awsManagedAlias(ctx, c, aws.ToString(d.KeyMetadata.KeyId)); err != nil {
				return nil, err
			}
		}
		kp, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: d.KeyMetadata.KeyId, PolicyName: aws.String("default")})
		if err != nil {
			return nil, fmt.Errorf("key policy of %s: %w", k.ARN, err)
		}
		k.Policy = json.RawMessage(aws.ToString(kp.Policy))
		return k, nil
	})
	if err != nil {
		return key{}, err
	}
	return v.(key), nil
}

// keyChecks are the checks for a service using a customer-managed key on the caller's
// behalf (kms:ViaService); none for an AWS-managed key, which the service may always use for
// the account.
func (p *Proxy) keyChecks(ctx context.Context, who caller, keyID, via string, actions []string, encContext map[string]string) ([]check, error) {
	k, err := p.kmsKey(ctx, who.Region, keyID)
	if err != nil {
		return nil, err
	}
	if k.AWSManaged {
		return nil, nil
	}
	var out []check
	for _, a := range actions {
		cx := map[string][]string{"kms:ViaService": {via + "." + who.Region + ".amazonaws.com"}, "kms:CallerAccount": {who.account()}}
		for ek, ev := range encContext {
			cx["kms:EncryptionContext:"+ek] = []string{ev}
		}
		if len(encContext) > 0 {
			cx["kms:EncryptionContextKeys"] = sortedKeys(encContext)
		}
		if a == "kms:CreateGrant" {
			cx["kms:GrantIsForAWSResource"] = []string{"true"}
		}
		out = append(out, check{Action: a, Resource: k.ARN, Context: cx, ResourcePolicy: k.Policy})
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// tagContext turns a resource's tags into aws:ResourceTag/* and the service's own
// <service>:ResourceTag/* keys.
func tagContext(service string, tags map[string]string) map[string][]string {
	cx := map[string][]string{}
	for k, v := range tags {
		cx["aws:ResourceTag/"+k] = []string{v}
		if service != "" {
			cx[service+":ResourceTag/"+k] = []string{v}
		}
	}
	return cx
}

// requestTagContext turns the tags a request sets into aws:RequestTag/* and aws:TagKeys.
func requestTagContext(tags map[string]string) map[string][]string {
	cx := map[string][]string{}
	if len(tags) == 0 {
		return cx
	}
	for k, v := range tags {
		cx["aws:RequestTag/"+k] = []string{v}
	}
	cx["aws:TagKeys"] = sortedKeys(tags)
	return cx
}
