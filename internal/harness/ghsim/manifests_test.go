package ghsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func testManifest(srv *Server) Manifest {
	off := false
	return Manifest{Name: "ghr-test", URL: "https://github.com/ghr-dev/ghr", RedirectURL: "http://127.0.0.1:1/callback",
		HookAttributes:     &HookAttributes{URL: "https://example.com/hook", Active: &off},
		DefaultPermissions: map[string]string{"organization_self_hosted_runners": "write", "actions": "read"},
		DefaultEvents:      []string{"workflow_job"}}
}

// postManifest submits the manifest form as a browser would, without following the redirect.
func postManifest(t *testing.T, srv *Server, path string, m Manifest) *http.Response {
	t.Helper()
	b, _ := json.Marshal(m)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+path+"?state=s1", url.Values{"manifest": {string(b)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// manifestCode runs steps 1 and 2 of the flow and returns the code GitHub's redirect carries.
func manifestCode(t *testing.T, srv *Server, path string, m Manifest) string {
	t.Helper()
	resp := postManifest(t, srv, path, m)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("manifest form: %d, want a 302 to the redirect_url", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), m.RedirectURL+"?") || loc.Query().Get("state") != "s1" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect to %q: want redirect_url with code and the state", resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestManifestFlow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := start(t, Options{Now: clock})
	if _, err := srv.AddOrg("acme"); err != nil {
		t.Fatal(err)
	}
	m := testManifest(srv)
	code := manifestCode(t, srv, "/organizations/acme/settings/apps/new", m)
	a := call(t, srv, "POST", "/app-manifests/"+code+"/conversions", "", nil)
	var got struct {
		ID            int64 `json:"id"`
		Owner         struct{ Login string }
		PEM           string            `json:"pem"`
		WebhookSecret string            `json:"webhook_secret"`
		Permissions   map[string]string `json:"permissions"`
		Events        []string          `json:"events"`
	}
	a.decode(t, &got)
	if a.status != 201 || got.ID != srv.AppID() || got.PEM != string(srv.PrivateKeyPEM()) || got.WebhookSecret == "" || got.Owner.Login != "acme" {
		t.Fatalf("conversion %d: id %d owner %s, want the App, its key, a secret, owned by acme", a.status, got.ID, got.Owner.Login)
	}
	if got.Permissions["organization_self_hosted_runners"] != "write" || got.Permissions["metadata"] != "read" || len(got.Events) != 1 {
		t.Fatalf("permissions %v events %v: want the manifest's (and metadata)", got.Permissions, got.Events)
	}

	for name, bad := range map[string]func(*Manifest){
		"no url":       func(m *Manifest) { m.URL = "" },
		"long name":    func(m *Manifest) { m.Name = strings.Repeat("n", 35) },
		"bad level":    func(m *Manifest) { m.DefaultPermissions = map[string]string{"actions": "all"} },
		"hook, no url": func(m *Manifest) { m.HookAttributes = &HookAttributes{} },
		"no redirect":  func(m *Manifest) { m.RedirectURL = "" },
	} {
		mm := testManifest(srv)
		bad(&mm)
		if resp := postManifest(t, srv, "/settings/apps/new", mm); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: form answered %d, want 422", name, resp.StatusCode)
		}
	}
	if resp := postManifest(t, srv, "/organizations/nobody/settings/apps/new", m); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown organization: %d, want 404", resp.StatusCode)
	}
	// A code is good for an hour.
	code = manifestCode(t, srv, "/settings/apps/new", m)
	now = now.Add(manifestCodeTTL + time.Second)
	if a := call(t, srv, "POST", "/app-manifests/"+code+"/conversions", "", nil); a.status != 404 {
		t.Fatalf("expired code: %d, want 404", a.status)
	}
}
