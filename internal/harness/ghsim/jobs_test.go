package ghsim

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRouting(t *testing.T) {
	tests := []struct {
		name      string
		runnerAt  string // "org" for octo, or a repository
		labels    []string
		jobRepo   string
		jobLabels []string
		want      bool
	}{
		{"subset", "octo", []string{"self-hosted", "linux", "x64", "gpu"}, "octo/app", []string{"self-hosted", "gpu"}, true},
		{"case-insensitive", "octo", []string{"Self-Hosted", "GPU"}, "octo/app", []string{"self-hosted", "gpu"}, true},
		{"missing label", "octo", []string{"self-hosted"}, "octo/app", []string{"self-hosted", "gpu"}, false},
		{"org runner, other org's repo", "octo", []string{"x"}, "other/x", []string{"x"}, false},
		{"repo runner, its repo", "octo/app", []string{"x"}, "octo/app", []string{"x"}, true},
		{"repo runner, sibling repo", "octo/app", []string{"x"}, "octo/lib", []string{"x"}, false},
		{"user repo runner", "alice/tools", []string{"x"}, "alice/tools", []string{"x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, Options{})
			seed(t, srv.Sim)
			octo := installationToken(t, srv, srv.installationFor(t, tt.runnerAt))
			path := "/orgs/" + tt.runnerAt + "/actions/runners/generate-jitconfig"
			if strings.Contains(tt.runnerAt, "/") {
				path = "/repos/" + tt.runnerAt + "/actions/runners/generate-jitconfig"
			}
			var jc struct {
				EncodedJITConfig string `json:"encoded_jit_config"`
			}
			call(t, srv, "POST", path, octo, map[string]any{"name": "r", "runner_group_id": 1, "labels": tt.labels}).decode(t, &jc)
			conn, err := srv.ConnectJIT(jc.EncodedJITConfig)
			if err != nil {
				t.Fatal(err)
			}
			job, err := srv.QueueJob(JobSpec{Repo: tt.jobRepo, Labels: tt.jobLabels})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := srv.Job(job.ID)
			if taken := got.Status == StatusInProgress && got.RunnerID == conn.ID(); taken != tt.want {
				t.Fatalf("job %s on %q, want taken = %v", got.Status, got.RunnerName, tt.want)
			}
		})
	}
}

// installationFor returns the installation id of an owner or repository's account.
func (s *Sim) installationFor(t testing.TB, owner string) int64 {
	acct, _, _ := strings.Cut(owner, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.installationOf(s.opts.AppID, acct)
	if in == nil {
		t.Fatalf("no installation in %s", acct)
	}
	return in.ID
}

func TestQueueOrder(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	var jobs []Job
	for _, l := range []string{"a", "b", "a"} {
		j, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{l}})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	tok, _ := srv.NewRegistrationToken("octo")
	ra, _ := srv.ConnectRegistration(tok, "ra", []string{"a"}, false)
	rb, _ := srv.ConnectRegistration(tok, "rb", []string{"a", "b"}, false)
	ctx := context.Background()
	// ra takes the oldest "a" job; rb, arriving second, the oldest job it can take: "b".
	if j, _ := ra.NextJob(ctx); j.ID != jobs[0].ID {
		t.Fatalf("ra got %d, want the oldest job %d", j.ID, jobs[0].ID)
	}
	if j, _ := rb.NextJob(ctx); j.ID != jobs[1].ID {
		t.Fatalf("rb got %d, want %d", j.ID, jobs[1].ID)
	}
	if err := rb.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	if j, _ := rb.NextJob(ctx); j.ID != jobs[2].ID {
		t.Fatalf("persistent rb after its job got %d, want %d", j.ID, jobs[2].ID)
	}
	if q, r, c := srv.JobCounts(); q != 0 || r != 2 || c != 1 {
		t.Fatalf("counts = %d queued, %d running, %d done; want 0, 2, 1", q, r, c)
	}
}

func TestJobLifecycleRecords(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now})
	seed(t, srv.Sim)
	job, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}, Duration: 3 * time.Second, Name: "test", Workflow: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	queued := clk.Now()
	clk.Advance(40 * time.Second)
	tok, _ := srv.NewRegistrationToken("octo")
	conn, _ := srv.ConnectRegistration(tok, "r", nil, true)
	got, err := conn.NextJob(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Duration != 3*time.Second || got.Name != "test" || got.Workflow != "ci" {
		t.Fatalf("assignment = %+v, want the job's spec", got)
	}
	clk.Advance(3 * time.Second)
	if err := conn.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.NextJob(context.Background()); !errors.Is(err, ErrRunnerGone) {
		t.Fatalf("ephemeral runner after its job: err = %v, want ErrRunnerGone", err)
	}
	if err := conn.Complete(ConclusionSuccess); !errors.Is(err, ErrRunnerGone) {
		t.Fatalf("complete twice: err = %v", err)
	}
	j, _ := srv.Job(job.ID)
	if !j.QueuedAt.Equal(queued) || !j.StartedAt.Equal(queued.Add(40*time.Second)) || !j.CompletedAt.Equal(queued.Add(43*time.Second)) ||
		j.RunnerName != "r" || j.Status != StatusCompleted || j.Conclusion != ConclusionSuccess {
		t.Fatalf("job record = %+v", j)
	}
	if len(srv.Runners()) != 0 {
		t.Fatalf("runners = %+v, want the ephemeral runner removed", srv.Runners())
	}
}

func TestLostRunner(t *testing.T) {
	tests := []struct {
		name    string
		retry   bool
		timeout time.Duration
		lose    func(*RunnerConn)
	}{
		{"spot interruption fails the job", false, 0, (*RunnerConn).Interrupt},
		{"disconnect mid-job fails the job", false, 0, (*RunnerConn).Disconnect},
		{"re-run after the loss", true, 0, (*RunnerConn).Interrupt},
		{"loss noticed after a timeout", true, 50 * time.Millisecond, (*RunnerConn).Interrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newSink(t)
			srv := start(t, Options{WebhookURL: sink.URL, RetryLostJobs: tt.retry, LostRunnerTimeout: tt.timeout})
			w := seed(t, srv.Sim)
			job, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}})
			tok, _ := srv.NewRegistrationToken("octo")
			conn, _ := srv.ConnectRegistration(tok, "spot", nil, true)
			if _, err := conn.NextJob(context.Background()); err != nil {
				t.Fatal(err)
			}
			tt.lose(conn)
			if tt.timeout > 0 {
				if j, _ := srv.Job(job.ID); j.Status != StatusInProgress {
					t.Fatalf("before the timeout the job is %s, want still in_progress", j.Status)
				}
				octo := installationToken(t, srv, w.octo.ID)
				if a := call(t, srv, "DELETE", "/orgs/octo/actions/runners/"+itoa(conn.ID()), octo, nil); a.status != 422 {
					t.Fatalf("delete the vanished busy runner: %d, want 422 until GitHub gives up", a.status)
				}
				deadline := time.Now().Add(5 * time.Second)
				for j, _ := srv.Job(job.ID); j.Status != StatusCompleted; j, _ = srv.Job(job.ID) {
					if time.Now().After(deadline) {
						t.Fatal("job never failed")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			j, _ := srv.Job(job.ID)
			if j.Status != StatusCompleted || j.Conclusion != ConclusionFailure {
				t.Fatalf("lost job = %s/%s, want completed/failure", j.Status, j.Conclusion)
			}
			rs := srv.Runners()
			if len(rs) != 1 || rs[0].Online || rs[0].Busy {
				t.Fatalf("runners = %+v, want the registration kept, offline and idle", rs)
			}
			if _, err := conn.NextJob(context.Background()); !errors.Is(err, ErrRunnerGone) {
				t.Fatalf("NextJob after the loss: %v", err)
			}
			wantJobs := 1
			if tt.retry {
				wantJobs = 2
				re, ok := srv.Job(j.RetriedBy)
				if !ok || re.Status != StatusQueued || re.RunID != j.RunID || re.Attempt != 2 {
					t.Fatalf("re-run = %+v, want a queued attempt 2 of run %d", re, j.RunID)
				}
			}
			if n := len(srv.Jobs()); n != wantJobs {
				t.Fatalf("%d jobs, want %d", n, wantJobs)
			}
			flush(t, srv.Sim)
			wantHooks := 3 // queued, in_progress, completed
			if tt.retry {
				wantHooks = 4 // and the re-run's queued
			}
			if got := len(sink.received()); got != wantHooks {
				t.Fatalf("%d webhooks, want %d: %v", got, wantHooks, sink.actions(t))
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCancelJob(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	j, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"nobody-has-this"}})
	if err := srv.CancelJob(j.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.CancelJob(j.ID); err == nil {
		t.Fatal("cancelled twice")
	}
	if got, _ := srv.Job(j.ID); got.Conclusion != ConclusionCancelled || got.RunnerID != 0 {
		t.Fatalf("job = %+v", got)
	}
	tok, _ := srv.NewRegistrationToken("octo")
	conn, _ := srv.ConnectRegistration(tok, "late", []string{"nobody-has-this"}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := conn.NextJob(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cancelled job was assigned: %v", err)
	}
}

func TestNoWebhookWithoutInstallation(t *testing.T) {
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL})
	if _, err := srv.AddOrg("solo"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddRepo("solo", "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.QueueJob(JobSpec{Repo: "solo/r", Labels: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	flush(t, srv.Sim)
	if n := len(srv.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries for a repository the App is not installed on", n)
	}
}

func TestCompleteWithoutReadingAssignment(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now})
	seed(t, srv.Sim)
	first, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	second, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	tok, _ := srv.NewRegistrationToken("octo")
	online := clk.Now()
	conn, _ := srv.ConnectRegistration(tok, "p", []string{"x"}, false)
	clk.Advance(time.Minute)
	// The host completes the first job without having read it; the stale assignment must
	// not block the next one.
	if err := conn.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	got, err := conn.NextJob(context.Background())
	if err != nil || got.ID != second.ID {
		t.Fatalf("NextJob = %d, %v; want %d", got.ID, err, second.ID)
	}
	for _, id := range []int64{first.ID, second.ID} {
		if j, _ := srv.Job(id); !j.RunnerOnlineAt.Equal(online) {
			t.Fatalf("job %d: runner online at %s, want %s", id, j.RunnerOnlineAt, online)
		}
	}
	if rs := srv.Runners(); len(rs) != 1 || !rs[0].OnlineAt.Equal(online) || !rs[0].Busy || rs[0].JobID != second.ID {
		t.Fatalf("runners = %+v", rs)
	}
}
