package scaleup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

// TestUnauthorizedJobsLaunchNothing: against the GitHub simulator, a job whose installation is
// unknown, belongs to another account, or does not cover its repository (or whose repository
// is in no installation) gets no instance: it is acknowledged, logged at error level with the
// reason and counted, while a good job in the same batch is served. Authorizations are cached:
// the next batch of good jobs costs only their JIT configs.
func TestUnauthorizedJobsLaunchNothing(t *testing.T) {
	gh, err := ghsim.Start(context.Background(), ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gh.Close() })
	for _, o := range []string{"octo", "other"} {
		if _, err := gh.AddOrg(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range [][2]string{{"octo", "app"}, {"octo", "secret"}, {"other", "app"}} {
		if _, err := gh.AddRepo(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	octo, err := gh.Install("octo", "app") // only octo/app is selected
	if err != nil {
		t.Fatal(err)
	}
	other, err := gh.Install("other")
	if err != nil {
		t.Fatal(err)
	}
	app, err := githubapp.New(githubapp.Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), APIURL: gh.URL,
		Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.h.Launcher.GitHub = scaleup.NewAppGitHub(app, config.WebURL(gh.URL), 10, nil)

	jobFor := func(id int64, repo string, installation int64) queue.Job {
		j := job(id, "linux", "octo")
		j.Repo, j.InstallationID = repo, installation
		return j
	}
	bad := map[int64]string{
		2: "installation 987654 does not exist",
		3: "belongs to other",
		4: "repository octo/secret is not in installation", // selected repositories only
		5: "repository octo/secret is in no installation",
	}
	ev := sqsEvent(t,
		jobFor(1, "octo/app", octo.ID),
		jobFor(2, "octo/app", 987654),
		jobFor(3, "octo/app", other.ID),
		jobFor(4, "octo/secret", octo.ID),
		jobFor(5, "octo/secret", 0),
	)
	if retried := w.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v: jobs that can never be served must be acknowledged", retried)
	}
	if n := w.ec2.Calls()["CreateFleet"]; n != 1 {
		t.Fatalf("%d CreateFleet calls, want 1 (the authorized job only)", n)
	}
	if live, all := len(w.live()), len(w.ec2.Instances("")); live != 1 || all != 1 {
		t.Fatalf("%d live of %d instances, want exactly one launched", live, all)
	}
	if rs := gh.Runners(); len(rs) != 1 {
		t.Fatalf("%d runners registered in GitHub, want 1", len(rs))
	}
	for id, reason := range bad {
		if !loggedError(t, w.log, id, reason) {
			t.Errorf("job %d: no error log naming %q in\n%s", id, reason, w.log)
		}
	}
	if n := w.metric("JobsDropped", map[string]string{"reason": "unauthorized"}); n != float64(len(bad)) {
		t.Errorf("JobsDropped{reason=unauthorized} = %v, want %d", n, len(bad))
	}

	// Steady state: the authorization is cached, so new jobs cost one JIT config each.
	before := app.Stats().Total()
	if retried := w.handle(sqsEvent(t, jobFor(10, "octo/app", octo.ID), jobFor(11, "octo/app", octo.ID))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if calls := app.Stats().Total() - before; calls != 2 {
		t.Fatalf("%d GitHub calls for 2 runners once authorized, want 2 (%v)", calls, app.Stats().Calls())
	}
}

// TestAuthorizationOutageRetries: when GitHub cannot answer whether the installation may
// serve the job, nothing is launched and the job is retried, never dropped.
func TestAuthorizationOutageRetries(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.gh.FailInstallationLookups(502)
	ev := sqsEvent(t, job(1, "linux", "octo"))
	if retried := w.handle(ev); len(retried) != 1 {
		t.Fatalf("retried %v, want the job back", retried)
	}
	if n := len(w.ec2.Instances("")); n != 0 {
		t.Fatalf("%d instances launched without an authorization", n)
	}
	w.gh.FailInstallationLookups(0)
	if retried := w.handle(ev); len(retried) != 0 || len(w.live()) != 1 {
		t.Fatalf("after the outage: retried %v, %d live; want the job served", retried, len(w.live()))
	}
}

// loggedError reports whether an error-level line for the job carries reason.
func loggedError(t *testing.T, log *bytes.Buffer, jobID int64, reason string) bool {
	t.Helper()
	for line := range strings.Lines(log.String()) {
		var rec struct {
			Level string
			JobID int64 `json:"job_id"`
			Error string
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "ERROR" && rec.JobID == jobID && strings.Contains(rec.Error, reason) {
			return true
		}
	}
	return false
}
