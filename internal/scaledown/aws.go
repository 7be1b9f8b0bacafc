package scaledown

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/time/rate"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/tags"
)

// AWS request limits of the clean-up.
const (
	// maxUntagIDs bounds one DeleteTags request, as ec2fleet bounds CreateTags.
	maxUntagIDs = 1000
	// ssmDeleteBatch is DeleteParameters' most names per call.
	ssmDeleteBatch = 10
	// ssmDeleteCallsPerSecond keeps stale-token clean-up far under SSM's account request
	// quota, which booting instances share when they read and delete their own tokens.
	ssmDeleteCallsPerSecond = 2
)

// EC2API is the part of the EC2 client a pass uses; *ec2.Client implements it.
type EC2API interface {
	ec2fleet.DescribeAPI
	ec2fleet.TerminateAPI
	ec2fleet.TagAPI
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, opts ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
}

// EC2 is the Fleet of one deployment: instances tagged ghr:environment=Prefix.
type EC2 struct {
	API             EC2API
	Prefix          string
	LaunchTemplates []string // the deployment's launch template ids (ec2fleet.Filter)
}

var (
	_ Fleet  = EC2{}
	_ EC2API = (*ec2.Client)(nil)
	_ Tokens = (*SSMTokens)(nil)
)

// List returns the deployment's pending and running instances.
func (e EC2) List(ctx context.Context) ([]Instance, error) {
	insts, err := ec2fleet.List(ctx, e.API, ec2fleet.Filter{Environment: e.Prefix, LaunchTemplates: e.LaunchTemplates})
	if err != nil {
		return nil, err
	}
	out := make([]Instance, len(insts))
	for i, in := range insts {
		out[i] = FromTags(in.ID, in.LaunchTime, in.Tags)
	}
	return out, nil
}

// endedStates are the states of an instance that will never read its token.
var endedStates = []string{"shutting-down", "terminated", "stopping", "stopped"}

// Ended returns those of ids (at most 200) that EC2 lists as shutting down, terminated or
// stopped in this deployment: one DescribeInstances.
func (e EC2) Ended(ctx context.Context, ids []string) ([]string, error) {
	insts, err := ec2fleet.List(ctx, e.API, ec2fleet.Filter{Environment: e.Prefix, LaunchTemplates: e.LaunchTemplates, States: endedStates, IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = in.ID
	}
	return out, nil
}

// Terminate terminates the instances in one call (up to 1000).
func (e EC2) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, e.API, ids)
}

// Tag sets key=value on the instances.
func (e EC2) Tag(ctx context.Context, ids []string, key, value string) error {
	return ec2fleet.Tag(ctx, e.API, ids, map[string]string{key: value})
}

// Untag removes key from the instances. ec2fleet has no DeleteTags; this is the one call.
func (e EC2) Untag(ctx context.Context, ids []string, key string) error {
	for chunk := range slices.Chunk(ids, maxUntagIDs) {
		if _, err := e.API.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: chunk, Tags: []types.Tag{{Key: aws.String(key)}}}); err != nil {
			return fmt.Errorf("untag %d instances: %w", len(chunk), err)
		}
	}
	return nil
}

// FromTags builds an Instance from its EC2 tags. Any ghr:protect value but "false" protects:
// an operator who sets the tag at all means it.
func FromTags(id string, launch time.Time, kv map[string]string) Instance {
	p, protected := kv[tags.Protect]
	return Instance{
		ID:             id,
		RunnerConfig:   kv[tags.RunnerConfig],
		Owner:          Owner{Level: kv[tags.Type], Name: kv[tags.Owner]},
		RunnerID:       tags.RunnerIDOf(id, kv),
		CreatedBy:      kv[tags.CreatedBy],
		LaunchTime:     launch,
		Registered:     kv[tags.Registered] != "",
		LaunchDeadline: tags.LaunchDeadlineOf(kv),
		OrphanTag:      kv[tags.Orphan],
		Protected:      protected && !strings.EqualFold(strings.TrimSpace(p), "false"),
	}
}

// SSMTokens is the Tokens side on SSM, paced.
type SSMTokens struct {
	Store   runnertoken.Store
	limiter *rate.Limiter
}

// NewSSMTokens paces deletes at ssmDeleteCallsPerSecond.
func NewSSMTokens(s runnertoken.Store) *SSMTokens {
	return &SSMTokens{Store: s, limiter: rate.NewLimiter(ssmDeleteCallsPerSecond, 1)}
}

// List describes every token parameter of the deployment, without values.
func (t *SSMTokens) List(ctx context.Context) ([]Token, error) {
	toks, err := t.Store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]Token, len(toks))
	for i, tk := range toks {
		out[i] = Token{Name: tk.Name, InstanceID: tk.InstanceID, Modified: tk.LastModified}
	}
	return out, nil
}

// Delete removes the named parameters, ten per paced call.
func (t *SSMTokens) Delete(ctx context.Context, names []string) (int, error) {
	n := 0
	for chunk := range slices.Chunk(names, ssmDeleteBatch) {
		if err := t.limiter.Wait(ctx); err != nil {
			return n, err
		}
		if err := t.Store.DeleteAll(ctx, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
	}
	return n, nil
}
