package queue

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func validJob() Job {
	return Job{V: Version, JobID: 7, RunID: 3, Repo: "octo/app", Owner: "octo", OwnerType: "Organization",
		Level: LevelOrg, InstallationID: 42, Labels: []string{"self-hosted"}, DeliveryID: "d-1",
		QueuedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RunnerConfig: "small"}
}

func TestDecodeJobRoundTrip(t *testing.T) {
	in := validJob()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeJob(b)
	if err != nil {
		t.Fatalf("DecodeJob: %v", err)
	}
	if out.JobID != in.JobID || out.RunnerConfig != in.RunnerConfig || !out.QueuedAt.Equal(in.QueuedAt) || out.Labels[0] != "self-hosted" {
		t.Fatalf("round trip changed the message: %+v", out)
	}
}

func TestDecodeJobRejects(t *testing.T) {
	mutate := map[string]func(*Job){
		"unknown version":  func(j *Job) { j.V = 2 },
		"no version":       func(j *Job) { j.V = 0 },
		"no job id":        func(j *Job) { j.JobID = 0 },
		"no repo":          func(j *Job) { j.Repo = "" },
		"bad level":        func(j *Job) { j.Level = "enterprise" },
		"bad installation": func(j *Job) { j.InstallationID = -1 },
		"no config":        func(j *Job) { j.RunnerConfig = "" },
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			j := validJob()
			m(&j)
			b, _ := json.Marshal(j)
			if _, err := DecodeJob(b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := DecodeJob([]byte("{not json")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad JSON: err = %v, want ErrInvalid", err)
	}
}

func TestDecodeLifecycle(t *testing.T) {
	l := Lifecycle{V: Version, Action: ActionCompleted, JobID: 9, Repo: "o/r", Owner: "o", RunnerName: "ghr-i-1"}
	b, _ := json.Marshal(l)
	got, err := DecodeLifecycle(b)
	if err != nil || got.RunnerName != "ghr-i-1" {
		t.Fatalf("DecodeLifecycle = %+v, %v", got, err)
	}
	l.Action = "queued"
	b, _ = json.Marshal(l)
	if _, err := DecodeLifecycle(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("queued action accepted: %v", err)
	}
}
