package ghsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/testutil/vclock"
)

// Several Apps: each has its own key, installations and secondary limits, and a runner
// registration belongs to the account, so any App installed there may see and delete it.
func TestSeveralApps(t *testing.T) {
	ctx := context.Background()
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key2 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	const app2Points = 10 // two JIT configs a minute
	second, err := srv.AddApp(AppOptions{PrivateKeyPEM: key2, SecondaryPoints: app2Points})
	if err != nil {
		t.Fatal(err)
	}
	in2, err := srv.InstallApp(second.ID, "octo")
	if err != nil {
		t.Fatal(err)
	}
	if in2.ID == w.octo.ID || in2.AppID != second.ID {
		t.Fatalf("second App's installation %+v, want its own (the first App's is %d)", in2, w.octo.ID)
	}
	if _, err := srv.InstallApp(second.ID, "octo"); err == nil {
		t.Fatal("a second installation of one App in one account was accepted")
	}
	if got := srv.Apps(); len(got) != 2 || got[0].ID != srv.AppID() || got[1].ID != second.ID {
		t.Fatalf("Apps() = %+v, want the webhook App then the second", got)
	}

	// A JWT is checked against the key of the App its iss names.
	now := srv.opts.Now()
	iss := strconv.FormatInt(second.ID, 10)
	if a := call(t, srv, "GET", "/app/installations", appJWT(t, srv.PrivateKeyPEM(), iss, now.Add(-30*time.Second), now.Add(9*time.Minute)), nil); a.status != http.StatusUnauthorized {
		t.Fatalf("second App's id signed with the first App's key: %d, want 401", a.status)
	}
	jwt2 := appJWT(t, key2, iss, now.Add(-30*time.Second), now.Add(9*time.Minute))
	var list []struct {
		ID    int64 `json:"id"`
		AppID int64 `json:"app_id"`
	}
	call(t, srv, "GET", "/app/installations", jwt2, nil).decode(t, &list)
	if len(list) != 1 || list[0].ID != in2.ID || list[0].AppID != second.ID {
		t.Fatalf("second App lists %+v, want only its installation %d", list, in2.ID)
	}
	if a := call(t, srv, "POST", "/app/installations/"+strconv.FormatInt(w.octo.ID, 10)+"/access_tokens", jwt2, nil); a.status != http.StatusNotFound {
		t.Fatalf("second App minting a token for the first App's installation: %d, want 404", a.status)
	}
	if a := call(t, srv, "GET", "/users/alice/installation", jwt2, nil); a.status != http.StatusNotFound {
		t.Fatalf("second App's installation in alice (none): %d, want 404", a.status)
	}

	one := app(t, srv, nil)
	two, err := githubapp.New(githubapp.Config{AppID: second.ID, PrivateKey: key2, APIURL: srv.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		t.Fatal(err)
	}
	found, err := two.InstallationID(ctx, "octo")
	if err != nil || found != in2.ID {
		t.Fatalf("second App finds installation %d (%v) in octo, want %d", found, err, in2.ID)
	}

	// Registered by the first App, seen and removed by the second.
	c1, c2 := one.Client(w.octo.ID), two.Client(in2.ID)
	jit, _, err := c1.Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{Name: "ghr-i-1", RunnerGroupID: 1, Labels: []string{"self-hosted"}})
	if err != nil {
		t.Fatal(err)
	}
	runners, _, err := c2.Actions.ListOrganizationRunners(ctx, "octo", nil)
	if err != nil || runners.TotalCount != 1 || runners.Runners[0].GetID() != jit.GetRunner().GetID() {
		t.Fatalf("second App lists %+v (%v), want the first App's runner", runners, err)
	}
	if _, err := c2.Actions.RemoveOrganizationRunner(ctx, "octo", jit.GetRunner().GetID()); err != nil {
		t.Fatalf("second App deleting the first App's runner: %v", err)
	}

	// The second App's own limit: two JIT configs, then refused; the first App is untouched.
	for i := range 3 {
		_, _, err := c2.Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{Name: "ghr-i-2" + strconv.Itoa(i), RunnerGroupID: 1, Labels: []string{"self-hosted"}})
		if _, limited := githubapp.RateLimitWait(err); limited != (i == 2) {
			t.Fatalf("second App's JIT %d: %v, want a secondary limit only for the third", i+1, err)
		}
	}
	if _, _, err := c1.Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{Name: "ghr-i-3", RunnerGroupID: 1, Labels: []string{"self-hosted"}}); err != nil {
		t.Fatalf("first App after the second met its limit: %v", err)
	}
}

// appSet builds ghr's App set over the simulator's Apps, each paced on perApp points on clk
// and counting its own calls.
func appSet(t *testing.T, srv *Server, apps []App, perApp int, clk *vclock.Clock) *githubapp.Set {
	t.Helper()
	var as []*githubapp.App
	for _, a := range apps {
		ga, err := githubapp.New(githubapp.Config{AppID: a.ID, PrivateKey: a.PrivateKeyPEM, APIURL: srv.URL,
			Pacer: githubapp.NewBudgetPacer(perApp).WithClock(clk.Now, clk.Sleep), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, ga)
	}
	return githubapp.NewSet(as...)
}

// A burst spreads over the Apps installed on the owner, each within its own budget: no
// secondary limit from a simulator holding each App to that budget, three times one App's
// pace, and an App not installed on the owner is never used. Runners registered as one App
// are deleted as whichever the set picks. A quiet call stays on the webhook App.
func TestSetSpreadsOverAppsWithinTheirBudgets(t *testing.T) {
	const (
		perApp = 100 // points a minute: a 20-point burst (4 JIT configs) and 16 JIT configs a minute
		jobs   = 45
		jit    = "POST /orgs/{org}/actions/runners/generate-jitconfig"
	)
	ctx := context.Background()
	clk := vclock.New(time.Now(), 1)
	defer clk.Exit()
	srv := start(t, Options{Now: clk.Now, SecondaryPoints: perApp})
	w := seed(t, srv.Sim)
	apps := []App{srv.Apps()[0]}
	for i := range 3 {
		a, err := srv.AddApp(AppOptions{PrivateKeyPEM: testKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		owner := "octo"
		if i == 2 {
			owner = "alice" // the last App is not installed on octo
		}
		if _, err := srv.InstallApp(a.ID, owner); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}

	quiet := appSet(t, srv, apps, perApp, clk)
	if _, _, err := quiet.OwnerClient("octo", w.octo.ID).Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{Name: "ghr-i-q", RunnerGroupID: 1, Labels: []string{"self-hosted"}}); err != nil {
		t.Fatal(err)
	}
	for i, a := range quiet.Apps()[1:] {
		if n := a.Stats().Total(); n != 0 {
			t.Fatalf("a single call made %d calls as App %d: it should stay on the webhook App", n, i+2)
		}
	}

	set := appSet(t, srv, apps, perApp, clk)
	c := set.OwnerClient("octo", w.octo.ID)
	begin := clk.Now()
	for i := range jobs {
		if _, _, err := c.Actions.GenerateOrgJITConfig(ctx, "octo", &github.GenerateJITConfigRequest{Name: "ghr-i-" + strconv.Itoa(i), RunnerGroupID: 1, Labels: []string{"self-hosted"}}); err != nil {
			t.Fatalf("JIT %d: %v", i, err)
		}
	}
	took := clk.Now().Sub(begin)
	// Three Apps: 12 at once and 48 a minute, ~41 s; one App alone would need ~154 s.
	if took > time.Minute {
		t.Errorf("%d JIT configs took %s over three Apps, want under a minute", jobs, took)
	}
	for i, a := range set.Apps() {
		n := a.Stats().Calls()[jit]
		if (n > 0) != (i < 3) {
			t.Errorf("App %d made %d JIT calls; want some from each App installed on octo (the first three), none from the fourth", i+1, n)
		}
	}
	if n := sumCounts(srv.Stats().SecondaryLimited); n != 0 {
		t.Errorf("%d secondary-limit answers, want 0", n)
	}

	runners, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", &github.ListOptions{PerPage: 100})
	if err != nil || runners.TotalCount != jobs+1 {
		t.Fatalf("octo has %v runners (%v), want %d", runners.TotalCount, err, jobs+1)
	}
	for _, r := range runners.Runners {
		if _, err := c.Actions.RemoveOrganizationRunner(ctx, "octo", r.GetID()); err != nil {
			t.Fatalf("delete runner %d: %v", r.GetID(), err)
		}
	}
	if left, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", nil); err != nil || left.TotalCount != 0 {
		t.Fatalf("after deleting every runner as whichever App was picked: %v left (%v)", left.TotalCount, err)
	}
	t.Logf("%d JIT configs over three Apps in %s (virtual)", jobs, took)
}
