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
