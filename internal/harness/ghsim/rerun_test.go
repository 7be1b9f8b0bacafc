package ghsim

import (
	"context"
	"testing"
	"time"
)

// GitHub never re-runs a job by itself; ghr re-runs an interrupted job through the API, under
// GitHub's rules.
func TestRerunJob(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now})
	w := seed(t, srv.Sim)
	tok := installationToken(t, srv, w.octo.ID)
	path := func(repo string, id int64) string { return "/repos/" + repo + "/actions/jobs/" + itoa(id) + "/rerun" }

	a, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}})
	b, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}, RunID: a.RunID})
	if got := call(t, srv, "POST", path("octo/app", a.ID), tok, nil); got.status != 403 {
		t.Fatalf("re-run of a queued job: %d, want 403", got.status)
	}
	conn, _ := srv.ConnectRegistration(mustToken(t, srv), "spot", nil, true)
	if _, err := conn.NextJob(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn.Interrupt() // job a fails; job b of the same run still waits
	if j, _ := srv.Job(a.ID); j.Conclusion != ConclusionFailure {
		t.Fatalf("interrupted job = %s/%s", j.Status, j.Conclusion)
	}
	if got := call(t, srv, "POST", path("octo/app", a.ID), tok, nil); got.status != 403 {
		t.Fatalf("re-run while the run is in progress: %d, want 403", got.status)
	}
	if err := srv.CancelJob(b.ID); err != nil {
		t.Fatal(err)
	}
	if got := call(t, srv, "POST", path("octo/lib", a.ID), tok, nil); got.status != 404 {
		t.Fatalf("re-run through another repository: %d, want 404", got.status)
	}
	if got := call(t, srv, "POST", path("octo/app", a.ID), tok, nil); got.status != 201 {
		t.Fatalf("re-run of a failed job in a completed run: %d %s, want 201", got.status, got.body)
	}
	old, _ := srv.Job(a.ID)
	re, ok := srv.Job(old.RetriedBy)
	if !ok || re.Status != StatusQueued || re.RunID != a.RunID || re.Attempt != 2 {
		t.Fatalf("re-run = %+v, want a queued attempt 2 of run %d", re, a.RunID)
	}
	if got := call(t, srv, "POST", path("octo/app", a.ID), tok, nil); got.status != 403 {
		t.Fatalf("second re-run of the same attempt: %d, want 403", got.status)
	}
	if err := srv.CancelJob(re.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(31 * 24 * time.Hour)
	if _, err := srv.RerunJob(re.ID); err != ErrRerunTooOld {
		t.Fatalf("re-run after 30 days: %v, want ErrRerunTooOld", err)
	}
}

func TestRerunAttemptLimit(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	j, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"nobody-has-this"}})
	for range maxRunAttempts - 1 {
		if err := srv.CancelJob(j.ID); err != nil {
			t.Fatal(err)
		}
		var err error
		if j, err = srv.RerunJob(j.ID); err != nil {
			t.Fatalf("attempt %d: %v", j.Attempt, err)
		}
	}
	_ = srv.CancelJob(j.ID)
	if _, err := srv.RerunJob(j.ID); err != ErrRerunTooMany || j.Attempt != maxRunAttempts {
		t.Fatalf("re-run of attempt %d: %v, want ErrRerunTooMany", j.Attempt, err)
	}
}

func mustToken(t *testing.T, srv *Server) string {
	t.Helper()
	tok, err := srv.NewRegistrationToken("octo")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Re-running needs Actions: write.
func TestRerunNeedsActionsWrite(t *testing.T) {
	srv := start(t, Options{AppPermissions: map[string]string{"actions": "read", "metadata": "read", "organization_self_hosted_runners": "write"}})
	w := seed(t, srv.Sim)
	tok := installationToken(t, srv, w.octo.ID)
	a, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}})
	conn, _ := srv.ConnectRegistration(mustToken(t, srv), "spot", nil, true)
	if _, err := conn.NextJob(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn.Interrupt()
	if j, _ := srv.Job(a.ID); j.Conclusion != ConclusionFailure {
		t.Fatalf("interrupted job = %s/%s", j.Status, j.Conclusion)
	}
	if got := call(t, srv, "POST", "/repos/octo/app/actions/jobs/"+itoa(a.ID)+"/rerun", tok, nil); got.status != 403 {
		t.Fatalf("re-run without Actions: write: %d, want 403", got.status)
	}
}
