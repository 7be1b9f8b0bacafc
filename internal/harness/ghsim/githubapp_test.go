package ghsim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// These tests drive the simulator with ghr's own GitHub client (githubapp over go-github
// v60), so the two agree on every shape and status ghr depends on.

func TestGitHubAppJITLifecycle(t *testing.T) {
	ctx := context.Background()
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL, WebhookSecret: "s3cret"})
	seed(t, srv.Sim)
	a := app(t, srv, nil)

	inst, err := a.InstallationID(ctx, "octo")
	if err != nil {
		t.Fatal(err)
	}
	c := a.Client(inst)
	cfg, _, err := c.Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{
		Name: "ghr-i-0abc", RunnerGroupID: 1, Labels: []string{"self-hosted", "linux", "gpu"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := runnertoken.ValidateJIT(cfg.GetEncodedJITConfig()); err != nil {
		t.Fatalf("the bootstrap would reject the JIT config: %v", err)
	}
	if r := cfg.GetRunner(); r.GetStatus() != "offline" || r.GetBusy() || len(r.Labels) != 3 {
		t.Fatalf("new JIT runner = %+v, want offline, idle, 3 labels", r)
	}

	job, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "GPU"}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := srv.ConnectJIT(cfg.GetEncodedJITConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ConnectJIT(cfg.GetEncodedJITConfig()); !errors.Is(err, ErrRunnerGone) {
		t.Fatalf("second use of a JIT config: err = %v, want ErrRunnerGone", err)
	}
	got, err := conn.NextJob(ctx)
	if err != nil || got.ID != job.ID {
		t.Fatalf("NextJob = %d, %v; want job %d", got.ID, err, job.ID)
	}

	// Busy: DELETE answers 422, which go-github surfaces as an ErrorResponse.
	_, err = c.Actions.RemoveOrganizationRunner(ctx, "octo", conn.ID())
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(er.Message, "is still running a job") {
		t.Fatalf("delete busy runner: err = %v, want 422 still running a job", err)
	}
	wj, _, err := c.Actions.GetWorkflowJobByID(ctx, "octo", "app", job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wj.GetStatus() != StatusInProgress || wj.GetRunnerName() != "ghr-i-0abc" || wj.GetRunnerID() != conn.ID() {
		t.Fatalf("job = %s on %q (%d), want in_progress on ghr-i-0abc", wj.GetStatus(), wj.GetRunnerName(), wj.GetRunnerID())
	}

	if err := conn.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Actions.GetOrganizationRunner(ctx, "octo", conn.ID()); !isStatus(err, http.StatusNotFound) {
		t.Fatalf("ephemeral runner after its job: err = %v, want 404", err)
	}
	if _, err := c.Actions.RemoveOrganizationRunner(ctx, "octo", conn.ID()); !isStatus(err, http.StatusNotFound) {
		t.Fatalf("delete removed runner: err = %v, want 404", err)
	}
	flush(t, srv.Sim)
	acts := sink.actions(t)
	want := fmt.Sprintf("[queued %[1]d in_progress %[1]d completed %[1]d]", job.ID)
	if got := fmt.Sprint(sortedActions(acts)); got != want {
		t.Fatalf("webhooks = %v, want %s", acts, want)
	}
}

// sortedActions orders events by lifecycle: concurrent delivery may reorder them.
func sortedActions(acts []string) []string {
	rank := map[string]int{"queued": 0, "in_progress": 1, "completed": 2}
	out := append([]string(nil), acts...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			ai, _, _ := strings.Cut(out[i], " ")
			aj, _, _ := strings.Cut(out[j], " ")
			if rank[aj] < rank[ai] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

func TestGitHubAppPagesThroughRunners(t *testing.T) {
	ctx := context.Background()
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	tok, err := srv.NewRegistrationToken("octo")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 {
		if _, err := srv.ConnectRegistration(tok, fmt.Sprintf("r-%03d", i), nil, false); err != nil {
			t.Fatal(err)
		}
	}
	c := app(t, srv, nil).Client(w.octo.ID)
	opts := &github.ListOptions{PerPage: 100}
	seen := map[string]bool{}
	pages := 0
	for {
		rs, resp, err := c.Actions.ListOrganizationRunners(ctx, "octo", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if rs.TotalCount != 250 {
			t.Fatalf("total_count = %d, want 250", rs.TotalCount)
		}
		for _, r := range rs.Runners {
			if seen[r.GetName()] {
				t.Fatalf("runner %s listed twice", r.GetName())
			}
			seen[r.GetName()] = true
		}
		if resp.NextPage == 0 {
			if resp.PrevPage != pages-1 || resp.FirstPage != 1 {
				t.Fatalf("last page links: prev %d first %d", resp.PrevPage, resp.FirstPage)
			}
			break
		}
		if resp.LastPage != 3 {
			t.Fatalf("page %d: last = %d, want 3", pages, resp.LastPage)
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || len(seen) != 250 {
		t.Fatalf("%d pages, %d runners; want 3 pages, 250 runners", pages, len(seen))
	}
}

func TestGitHubAppRefreshesExpiringToken(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	// githubapp replaces a token five minutes before it expires; ghinstallation's App JWTs
	// live two minutes of real time, so the simulated clock moves less than that.
	srv := start(t, Options{Now: clk.Now, TokenLifetime: 5*time.Minute + 30*time.Second})
	w := seed(t, srv.Sim)
	a := app(t, srv, clk.Now)
	c := a.Client(w.octo.ID)
	list := func() {
		t.Helper()
		if _, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", nil); err != nil {
			t.Fatal(err)
		}
	}
	list()
	list()
	const mint = "POST /app/installations/{id}/access_tokens"
	if n := srv.Stats().Requests[mint]; n != 1 {
		t.Fatalf("tokens minted = %d, want 1 (cached)", n)
	}
	clk.Advance(45 * time.Second) // inside the refresh margin
	list()
	if n := srv.Stats().Requests[mint]; n != 2 {
		t.Fatalf("tokens minted = %d, want 2 after the refresh margin", n)
	}
}

func TestGitHubAppRateLimitErrors(t *testing.T) {
	ctx := context.Background()
	srv := start(t, Options{RateLimit: 3})
	w := seed(t, srv.Sim)
	a := app(t, srv, nil)
	c := a.Client(w.octo.ID)
	for range 3 {
		if _, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", nil); err != nil {
			t.Fatal(err)
		}
	}
	if rem, _ := a.Stats().Remaining(); rem != 0 {
		t.Fatalf("client saw remaining %d, want 0", rem)
	}
	// go-github itself now refuses to call until the reset; githubapp understands that too.
	_, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", nil)
	if wait, ok := githubapp.RateLimitWait(err); !ok || wait < 50*time.Minute {
		t.Fatalf("err = %v, want a rate limit of about an hour", err)
	}
	// A fresh client (another Lambda container) reaches the simulator and gets its 403.
	_, _, err = app(t, srv, nil).Client(w.octo.ID).Actions.ListOrganizationRunners(ctx, "octo", nil)
	var rl *githubapp.RateLimitError
	if !errors.As(err, &rl) || rl.Secondary || rl.Status != http.StatusForbidden || rl.Wait < 50*time.Minute {
		t.Fatalf("err = %v, want a primary RateLimitError (403) waiting about an hour", err)
	}
	if n := srv.Stats().PrimaryLimited["GET /orgs/{org}/actions/runners"]; n != 1 {
		t.Fatalf("primary limit hits = %d, want 1", n)
	}

	srv.SetRateLimit(1000)
	a3 := app(t, srv, nil) // go-github remembers the spent quota
	if _, err := a3.Token(ctx, w.octo.ID); err != nil {
		t.Fatal(err)
	}
	srv.SetSecondaryLimit(10, http.StatusTooManyRequests)
	c = a3.Client(w.octo.ID)
	for range 3 { // 3 POSTs of 5 points: the third exceeds 10
		_, _, err = c.Actions.CreateOrganizationRegistrationToken(ctx, "octo")
		if err != nil {
			break
		}
	}
	if !errors.As(err, &rl) || !rl.Secondary || rl.Status != http.StatusTooManyRequests || rl.Wait < time.Second || rl.Wait > time.Minute {
		t.Fatalf("err = %v, want a secondary RateLimitError (429) with Retry-After ≤ 60 s", err)
	}
	if n := srv.Stats().SecondaryLimited["POST /orgs/{org}/actions/runners/registration-token"]; n != 1 {
		t.Fatalf("secondary limit hits = %d, want 1: %v", n, srv.Stats().SecondaryLimited)
	}
}

func TestGitHubAppInstallationsAndDeliveries(t *testing.T) {
	ctx := context.Background()
	sink := newSink(t)
	sink.setStatus(http.StatusServiceUnavailable)
	srv := start(t, Options{WebhookURL: sink.URL, WebhookSecret: "s"})
	w := seed(t, srv.Sim)
	a := app(t, srv, nil)
	for owner, want := range map[string]int64{"octo": w.octo.ID, "octo/lib": w.octo.ID, "alice/tools": w.alice.ID} {
		if got, err := a.InstallationID(ctx, owner); err != nil || got != want {
			t.Fatalf("InstallationID(%s) = %d, %v; want %d", owner, got, err, want)
		}
	}
	if in, _, err := a.AppClient().Apps.FindUserInstallation(ctx, "alice"); err != nil || in.GetID() != w.alice.ID {
		t.Fatalf("user installation = %v, %v", in.GetID(), err)
	}
	if _, err := a.InstallationID(ctx, "nobody"); !isStatus(err, http.StatusNotFound) {
		t.Fatalf("unknown org: err = %v, want 404", err)
	}

	for range 5 {
		if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, srv.Sim)
	// Cursor paging, newest first, 2 per page.
	opts := &github.ListCursorOptions{PerPage: 2}
	var ids []int64
	for {
		ds, resp, err := a.AppClient().Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.GetStatusCode() != http.StatusServiceUnavailable || d.GetStatus() != "Invalid HTTP Response: 503" {
				t.Fatalf("delivery %d: %d %q, want a recorded 503 failure", d.GetID(), d.GetStatusCode(), d.GetStatus())
			}
			ids = append(ids, d.GetID())
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	if len(ids) != 5 || ids[0] < ids[4] {
		t.Fatalf("delivery ids = %v, want 5, newest first", ids)
	}

	sink.setStatus(http.StatusAccepted)
	_, _, err := a.AppClient().Apps.RedeliverHookDelivery(ctx, ids[0])
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) { // go-github reports 202 this way
		t.Fatalf("redeliver: err = %v, want go-github's AcceptedError for 202", err)
	}
	flush(t, srv.Sim)
	ds, _, err := a.AppClient().Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	orig, _, err := a.AppClient().Apps.GetHookDelivery(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[0]; !d.GetRedelivery() || d.GetGUID() != orig.GetGUID() || d.GetStatusCode() != http.StatusAccepted {
		t.Fatalf("newest delivery = %+v, want the redelivery of %s answered 202", d, orig.GetGUID())
	}
}

func TestGitHubAppReleases(t *testing.T) {
	ctx := context.Background()
	srv := start(t, Options{RunnerReleases: []Release{
		RunnerRelease("2.331.0", "linux-x64"),
		{Tag: "v2.332.0-rc1", Prerelease: true, PublishedAt: time.Now()},
		RunnerRelease("2.330.0", "linux-x64", "linux-arm64"),
	}})
	c := github.NewClient(nil)
	c.BaseURL = mustURL(t, srv.URL+"/")
	rel, _, err := c.Repositories.GetLatestRelease(ctx, "actions", "runner")
	if err != nil {
		t.Fatal(err)
	}
	if rel.GetTagName() != "v2.331.0" || len(rel.Assets) != 1 {
		t.Fatalf("latest = %s with %d assets, want v2.331.0 (the prerelease is skipped)", rel.GetTagName(), len(rel.Assets))
	}
	asset := rel.Assets[0]
	if asset.GetName() != "actions-runner-linux-x64-2.331.0.tar.gz" {
		t.Fatalf("asset name = %s", asset.GetName())
	}
	rc, _, err := c.Repositories.DownloadReleaseAsset(ctx, "actions", "runner", asset.GetID(), http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	marker := "<!-- BEGIN SHA linux-x64 -->" + hex.EncodeToString(sum[:]) + "<!-- END SHA linux-x64 -->"
	if !strings.Contains(rel.GetBody(), marker) || int(asset.GetSize()) != len(body) {
		t.Fatalf("release body lacks %s, or size %d != %d", marker, asset.GetSize(), len(body))
	}
	if _, _, err := c.Repositories.GetReleaseByTag(ctx, "actions", "runner", "v2.330.0"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Repositories.GetReleaseByTag(ctx, "actions", "runner", "v9"); !isStatus(err, http.StatusNotFound) {
		t.Fatalf("unknown tag: err = %v, want 404", err)
	}
}
