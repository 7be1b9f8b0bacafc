// Package runnertoken stores what a runner instance needs to register with GitHub, where the
// instance's bootstrap reads it: an SSM SecureString at
// /<prefix>/runners/<config>/tokens/<instance-id>, encrypted with the deployment's KMS key and
// tagged ghr:instance-id. The value's formats are docs/runner-token.md (format.go).
// The instance deletes the parameter after reading it; scale-down deletes the ones whose
// instance is gone.
package runnertoken

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/tags"
)

// SSM API limits.
const (
	describePageSize = 50 // DescribeParameters' largest page
	deleteBatch      = 10 // DeleteParameters takes at most 10 names

	// StandardMaxValue is the largest value a Standard-tier parameter holds, in characters.
	// GitHub's encoded_jit_config has been ~4.1-4.5 KB since 2025, so JIT tokens exceed it.
	StandardMaxValue = 4096
	// AdvancedMaxValue is the largest value an Advanced-tier parameter holds (8 KB).
	AdvancedMaxValue = 8192

	// putAttempts and putMaxBackoff ride out PutParameter's account-wide 3 TPS (AWS support's
	// figure; 10 TPS with higher throughput): a batch of 16 registrations from each of a few
	// containers queues for seconds, not for the SDK's default 3 attempts within ~1 s.
	putAttempts   = 12
	putMaxBackoff = 3 * time.Second
)

// writeRetryer waits out SSM's write throttling with jittered backoff. The SDK's client-side
// retry quota is off for these writes: a burst's throttled writes would drain it and fail
// writes that one more wait would have stored.
var writeRetryer = retry.NewStandard(func(o *retry.StandardOptions) {
	o.MaxAttempts, o.MaxBackoff, o.RateLimiter = putAttempts, putMaxBackoff, ratelimit.None
})

func paceWrites(o *ssm.Options) { o.Retryer = writeRetryer }

// Tier is the cheapest SSM tier that holds value: Standard (free) when it fits, else Advanced
// (see docs/decisions.md, "Runner token tier"). A value too long for either is an error, found
// before any call is spent.
func Tier(value string) (types.ParameterTier, error) {
	n := utf8.RuneCountInString(value)
	switch {
	case n <= StandardMaxValue:
		return types.ParameterTierStandard, nil
	case n <= AdvancedMaxValue:
		return types.ParameterTierAdvanced, nil
	}
	return "", fmt.Errorf("token value of %d characters exceeds SSM's %d-character Advanced-tier limit", n, AdvancedMaxValue)
}

// API is the part of the SSM client the store uses; *ssm.Client implements it.
type API interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, opts ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, opts ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
	DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, opts ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
}

// Store writes and removes runner token parameters of one deployment.
type Store struct {
	API      API
	Prefix   string // deployment prefix, root of the path
	KMSKeyID string // "" uses the AWS-managed SSM key
}

// Path is the parameter name for an instance's token.
func Path(prefix, config, instanceID string) string {
	return "/" + prefix + "/runners/" + config + "/tokens/" + instanceID
}

// Root is the path under which every token parameter of the deployment lives.
func Root(prefix string) string { return "/" + prefix + "/runners/" }

// Put stores value for the instance. Tags travel in the same PutParameter call (allowed when
// creating), so no separate AddTagsToResource call is spent. An instance id is new by
// construction, so an existing parameter means an earlier attempt already stored this
// instance's token: Put reports success. The tier is chosen by the value's size in the same
// call, so a JIT config costs one write like any other token.
func (s Store) Put(ctx context.Context, config, instanceID, value string) error {
	tier, err := Tier(value)
	if err != nil {
		return fmt.Errorf("put token for %s: %w", instanceID, err)
	}
	in := &ssm.PutParameterInput{
		Name:  aws.String(Path(s.Prefix, config, instanceID)),
		Value: aws.String(value),
		Type:  types.ParameterTypeSecureString,
		Tier:  tier,
		Tags:  []types.Tag{{Key: aws.String(tags.InstanceID), Value: aws.String(instanceID)}},
	}
	if s.KMSKeyID != "" {
		in.KeyId = aws.String(s.KMSKeyID)
	}
	if _, err := s.API.PutParameter(ctx, in, paceWrites); err != nil {
		if awserr.Classify(err) == awserr.AlreadyExists {
			return nil
		}
		return fmt.Errorf("put token for %s: %w", instanceID, err)
	}
	return nil
}

// Delete removes the parameter name; one already gone (read and deleted by its instance) is
// not an error.
func (s Store) Delete(ctx context.Context, name string) error {
	_, err := s.API.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	if err != nil && awserr.Classify(err) != awserr.NotFound {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Remove deletes the instance's token parameter, if it is still there.
func (s Store) Remove(ctx context.Context, config, instanceID string) error {
	return s.Delete(ctx, Path(s.Prefix, config, instanceID))
}

// DeleteAll removes the named parameters, ten per call; names already gone are ignored.
func (s Store) DeleteAll(ctx context.Context, names []string) error {
	for chunk := range slices.Chunk(names, deleteBatch) {
		if _, err := s.API.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: chunk}); err != nil {
			return fmt.Errorf("delete %d token parameters: %w", len(chunk), err)
		}
	}
	return nil
}

// Token is one stored token parameter, described without its value.
type Token struct {
	Name         string
	Config       string
	InstanceID   string
	LastModified time.Time
}

// List describes every token parameter of the deployment (config "" ) or of one runner
// config, without reading any value.
func (s Store) List(ctx context.Context, config string) ([]Token, error) {
	path := Root(s.Prefix)
	if config != "" {
		path += config + "/tokens"
	}
	in := &ssm.DescribeParametersInput{
		MaxResults: aws.Int32(describePageSize),
		ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{strings.TrimSuffix(path, "/")}},
		},
	}
	var out []Token
	for {
		page, err := s.API.DescribeParameters(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list token parameters under %s: %w", path, err)
		}
		for _, p := range page.Parameters {
			t, ok := s.parse(aws.ToString(p.Name))
			if !ok {
				continue // not a token parameter (another kind of runner setting)
			}
			t.LastModified = aws.ToTime(p.LastModifiedDate)
			out = append(out, t)
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// parse reverses Path.
func (s Store) parse(name string) (Token, bool) {
	rest, ok := strings.CutPrefix(name, Root(s.Prefix))
	if !ok {
		return Token{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "tokens" || parts[0] == "" || parts[2] == "" {
		return Token{}, false
	}
	return Token{Name: name, Config: parts[0], InstanceID: parts[2]}, true
}
