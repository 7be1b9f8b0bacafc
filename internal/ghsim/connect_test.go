package ghsim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/bootstrap"
)

func TestConnectToken(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	if _, err := srv.AddRunnerGroup("octo", "big"); err != nil {
		t.Fatal(err)
	}
	orgTok, _ := srv.NewRegistrationToken("octo")
	repoTok, _ := srv.NewRegistrationToken("octo/app")
	doc := func(r bootstrap.Registration) string {
		s, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		value   string
		wantErr string
		check   func(Runner) bool
	}{
		{"org runner in a group", doc(bootstrap.Registration{URL: "https://github.com/octo", Token: orgTok, Name: "a", Labels: []string{"gpu"}, RunnerGroup: "big", Ephemeral: true}), "",
			func(r Runner) bool {
				return r.Level == LevelOrg && r.GroupID != 1 && r.Ephemeral && strings.Join(r.Labels, ",") == "self-hosted,Linux,X64,gpu"
			}},
		{"repo runner", doc(bootstrap.Registration{URL: "https://github.com/octo/app", Token: repoTok, Name: "b"}), "",
			func(r Runner) bool {
				return r.Level == LevelRepo && r.Owner == "octo/app" && !r.Ephemeral && r.GroupID == 1
			}},
		{"url of another scope", doc(bootstrap.Registration{URL: "https://github.com/octo/lib", Token: repoTok, Name: "c"}), "does not name", nil},
		{"unknown group", doc(bootstrap.Registration{URL: "https://github.com/octo", Token: orgTok, Name: "d", RunnerGroup: "nope"}), "not found", nil},
		{"not a token", "ghr-registration-v9\n", "unknown format", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := srv.ConnectToken(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range srv.Runners() {
				if r.ID == conn.ID() && !tt.check(r) {
					t.Fatalf("runner = %+v", r)
				}
			}
		})
	}
}

func TestRunJobs(t *testing.T) {
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	var jc struct {
		EncodedJITConfig string `json:"encoded_jit_config"`
	}
	call(t, srv, "POST", "/orgs/octo/actions/runners/generate-jitconfig", installationToken(t, srv, w.octo.ID),
		map[string]any{"name": "eph", "runner_group_id": 1, "labels": []string{"self-hosted"}}).decode(t, &jc)
	for range 2 {
		if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}, Duration: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	eph, err := srv.ConnectToken(jc.EncodedJITConfig)
	if err != nil {
		t.Fatal(err)
	}
	var waited []time.Duration
	fake := func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	if n, err := eph.RunJobs(context.Background(), fake); n != 1 || err != nil {
		t.Fatalf("ephemeral runner ran %d jobs (%v), want 1", n, err)
	}
	tok, _ := srv.NewRegistrationToken("octo")
	p, _ := srv.ConnectRegistration(tok, "persistent", nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if n, err := p.RunJobs(ctx, fake); n != 1 || err == nil {
		t.Fatalf("persistent runner ran %d jobs, err %v; want 1, then the context's end", n, err)
	}
	if len(waited) != 2 || waited[0] != time.Hour {
		t.Fatalf("waited %v, want each job's duration", waited)
	}
	if _, _, done := srv.JobCounts(); done != 2 {
		t.Fatalf("%d jobs done, want 2", done)
	}
	if err := Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep ignored its context")
	}
}
