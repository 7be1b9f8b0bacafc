package scaledown

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// memParams is SSM's PutParameter over a map, refusing writes while fail is set.
type memParams struct {
	values map[string]string
	fail   error
}

func (m *memParams) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	if m.values[aws.ToString(in.Name)] != "" && !aws.ToBool(in.Overwrite) {
		return nil, errors.New("ParameterAlreadyExists")
	}
	m.values[aws.ToString(in.Name)] = aws.ToString(in.Value)
	return &ssm.PutParameterOutput{}, nil
}

// failingFleet cannot list instances: the pass decides nothing.
type failingFleet struct{ *memFleet }

func (failingFleet) List(context.Context) ([]Instance, error) { return nil, errors.New("throttled") }

func TestHandleRecordsEachPass(t *testing.T) {
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", "ghr-i-a0000006", true, false) // online, idle, past its minimum
	fleet := newMemFleet(Instance{ID: "i-a0000006", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour)})
	params := &memParams{values: map[string]string{}}
	now := t0
	r := &Reconciler{Fleet: fleet, GitHub: &GitHub{App: gh.App(t)}, RunnerNamePrefix: prefix, Log: quietLog(),
		Configs: []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 1, BootMinutes: 1}},
		Now:     func() time.Time { now = now.Add(time.Second); return now },
		PassLog: SSMPassLog{API: params, Prefix: "ghr-t"}}
	last := func() PassRecord {
		t.Helper()
		rec, err := ParsePassRecord(params.values["/ghr-t/scale-down/last-pass"])
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}

	if _, err := r.Handle(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := last()
	if rec.Result.Terminated != 1 || rec.Result.Removed != 1 || rec.Error != "" || !rec.At.Equal(now.UTC()) || rec.Seconds <= 0 {
		t.Fatalf("record of a pass that removed one idle runner: %+v", rec)
	}

	r.Fleet = failingFleet{fleet}
	if _, err := r.Handle(context.Background()); err == nil {
		t.Fatal("a pass that could not list instances succeeded")
	}
	if rec := last(); rec.Error == "" || rec.Result.Terminated != 0 || !rec.At.Equal(now.UTC()) {
		t.Fatalf("record of a failed pass: %+v", rec)
	}

	r.Fleet = fleet
	params.fail = errors.New("ThrottlingException")
	if _, err := r.Handle(context.Background()); err != nil {
		t.Fatalf("a pass failed because its record could not be written: %v", err)
	}
}
