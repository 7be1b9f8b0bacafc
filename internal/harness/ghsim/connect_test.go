package ghsim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/runnertoken"
)

func TestConnectToken(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	if _, err := srv.AddRunnerGroup("octo", "big"); err != nil {
		t.Fatal(err)
	}
	orgTok, _ := srv.NewRegistrationToken("octo")
	repoTok, _ := srv.NewRegistrationToken("octo/app")
	doc := func(r runnertoken.Registration) string {
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
		{"org runner in a group", doc(runnertoken.Registration{URL: "https://github.com/octo", Token: orgTok, Name: "a", Labels: []string{"gpu"}, RunnerGroup: "big", Ephemeral: true}), "",
			func(r Runner) bool {
				return r.Level == LevelOrg && r.GroupID != 1 && r.Ephemeral && strings.Join(r.Labels, ",") == "gpu"
			}},
		{"labels are exactly the document's", doc(runnertoken.Registration{URL: "https://github.com/octo", Token: orgTok, Name: "e", Labels: []string{"self-hosted", "linux", "persistent", "Linux"}}), "",
			func(r Runner) bool { return strings.Join(r.Labels, ",") == "self-hosted,linux,persistent" }},
		{"repo runner without labels keeps the defaults", doc(runnertoken.Registration{URL: "https://github.com/octo/app", Token: repoTok, Name: "b"}), "",
			func(r Runner) bool {
				return r.Level == LevelRepo && r.Owner == "octo/app" && !r.Ephemeral && r.GroupID == 1 && strings.Join(r.Labels, ",") == "self-hosted,Linux,X64"
			}},
		{"url of another scope", doc(runnertoken.Registration{URL: "https://github.com/octo/lib", Token: repoTok, Name: "c"}), "does not name", nil},
		{"unknown group", doc(runnertoken.Registration{URL: "https://github.com/octo", Token: orgTok, Name: "d", RunnerGroup: "nope"}), "not found", nil},
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
			found := false
			for _, r := range srv.Runners() {
				if r.ID == conn.ID() {
					found = true
					if !tt.check(r) {
						t.Fatalf("runner = %+v", r)
					}
				}
			}
			if !found {
				t.Fatalf("runner %d not listed", conn.ID())
			}
		})
	}
}

// TestTokenLabelsAreExact: a registration-document runner with custom labels takes no job
// meant for config.sh's default labels, which a runner configured without
// --no-default-labels would steal.
func TestTokenLabelsAreExact(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	tok, _ := srv.NewRegistrationToken("octo")
	doc, err := runnertoken.Registration{URL: "https://github.com/octo", Token: tok, Name: "p", Labels: []string{"self-hosted", "linux", "persistent"}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	small, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "linux", "x64"}, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := srv.ConnectToken(doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if job, err := exact.NextJob(ctx); err == nil {
		t.Fatalf("runner with exact labels took job %d meant for [self-hosted linux x64]", job.ID)
	}
	loose, err := srv.ConnectRegistration(tok, "q", []string{"persistent"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if job, err := loose.NextJob(ctx2); err != nil || job.ID != small.ID {
		t.Fatalf("runner with default labels got %+v, %v; want job %d", job, err, small.ID)
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
