package scaleup_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// newGitHub is the unit tests' GitHub (ghfake) as scale-up sees it: the App installed on
// octo, a "ci" runner group, every answer delayed by latency.
func newGitHub(t testing.TB, latency time.Duration) *ghfake.Server {
	gh := ghfake.New(t)
	gh.AddInstallation(42, "octo", "Organization")
	gh.AddRunnerGroup("ci", 7)
	gh.SetLatency(latency)
	return gh
}

// fakeSSM is a counting, stateful SSM for the token store.
type fakeSSM struct {
	latency time.Duration

	mu     sync.Mutex
	params map[string]fakeParam
	calls  map[string]int
	fail   map[string]error // op → error for every call
}

type fakeParam struct {
	value, kmsKey string
	typ           ssmtypes.ParameterType
	tags          map[string]string
}

var _ runnertoken.API = (*fakeSSM)(nil)

func newFakeSSM(latency time.Duration) *fakeSSM {
	return &fakeSSM{latency: latency, params: map[string]fakeParam{}, calls: map[string]int{}, fail: map[string]error{}}
}

func (s *fakeSSM) enter(ctx context.Context, op string) error {
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.fail[op]
}

func (s *fakeSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if err := s.enter(ctx, "PutParameter"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := aws.ToString(in.Name)
	if _, ok := s.params[name]; ok && !aws.ToBool(in.Overwrite) {
		return nil, &ssmtypes.ParameterAlreadyExists{Message: aws.String(name)}
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	s.params[name] = fakeParam{value: aws.ToString(in.Value), kmsKey: aws.ToString(in.KeyId), typ: in.Type, tags: tags}
	return &ssm.PutParameterOutput{Version: 1}, nil
}

func (s *fakeSSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	if err := s.enter(ctx, "DeleteParameter"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.params[aws.ToString(in.Name)]; !ok {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	delete(s.params, aws.ToString(in.Name))
	return &ssm.DeleteParameterOutput{}, nil
}

func (s *fakeSSM) DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, _ ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error) {
	if err := s.enter(ctx, "DeleteParameters"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ssm.DeleteParametersOutput{}
	for _, n := range in.Names {
		if _, ok := s.params[n]; ok {
			delete(s.params, n)
			out.DeletedParameters = append(out.DeletedParameters, n)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func (s *fakeSSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	if err := s.enter(ctx, "DescribeParameters"); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("fake ssm: DescribeParameters is not used by scale-up")
}

func (s *fakeSSM) snapshot() map[string]fakeParam {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.params)
}

func (s *fakeSSM) totalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// sqsEvent builds a batch; receive counts default to 1.
func sqsEvent(t testing.TB, jobs ...queue.Job) events.SQSEvent {
	var ev events.SQSEvent
	for i, j := range jobs {
		body, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m%d-%d", i, j.JobID), Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

func job(id int64, cfg, owner string) queue.Job {
	return queue.Job{
		V: queue.Version, JobID: id, RunID: 1000 + id, Repo: owner + "/app", Owner: owner, OwnerType: "Organization",
		Level: queue.LevelOrg, InstallationID: 42, Labels: []string{"self-hosted", "linux"}, DeliveryID: "d-" + strconv.FormatInt(id, 10),
		QueuedAt: time.Unix(1_700_000_000+id, 0).UTC(), RunnerConfig: cfg,
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
