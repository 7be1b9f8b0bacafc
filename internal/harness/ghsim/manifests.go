package ghsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The App manifest flow, as GitHub documents it ("Registering a GitHub App from a manifest"):
//  1. a browser POSTs a form whose `manifest` field is the App's JSON to
//     github.com/settings/apps/new (or /organizations/ORG/settings/apps/new), ?state=S;
//  2. once the person confirms, GitHub redirects to the manifest's redirect_url with
//     ?code=C&state=S;
//  3. the creator POSTs /app-manifests/C/conversions, unauthenticated, within an hour; the
//     code works once and the answer carries the App's id, key (pem) and webhook secret.
//
// The simulator confirms at once (there is no person to click) and the App created is the
// simulator's own App, now with the manifest's name, permissions and events.
const (
	manifestCodeTTL  = time.Hour // GitHub: "You must complete this step within one hour"
	maxManifestBytes = 64 << 10
	docManifest      = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
)

// Manifest is the subset of GitHub's App manifest the simulator reads.
type Manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	HookAttributes     *HookAttributes   `json:"hook_attributes,omitempty"`
	RedirectURL        string            `json:"redirect_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// HookAttributes configure the App's webhook in a manifest.
type HookAttributes struct {
	URL    string `json:"url"`
	Active *bool  `json:"active,omitempty"` // GitHub's default is true
}

type pendingManifest struct {
	m       Manifest
	owner   Account
	created time.Time
}

type manifestState struct {
	mu      sync.Mutex
	pending map[string]*pendingManifest
	app     *Manifest // the last converted manifest: GET /app answers with it
}

var (
	permissionLevel = regexp.MustCompile(`^(read|write|admin)$`)
	appNameRule     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,33}$`) // GitHub: at most 34 characters
)

// checkManifest applies the rules GitHub states for a manifest's fields.
func checkManifest(m Manifest) string {
	switch {
	case !appNameRule.MatchString(m.Name):
		return "name must be 1 to 34 letters, digits, spaces, dots, hyphens or underscores"
	case m.URL == "":
		return "url is required"
	case m.HookAttributes != nil && m.HookAttributes.URL == "":
		return "hook_attributes.url is required"
	case m.RedirectURL == "":
		return "redirect_url is required for the manifest flow"
	}
	for p, lvl := range m.DefaultPermissions {
		if !permissionLevel.MatchString(lvl) {
			return "default_permissions." + p + ": want read, write or admin"
		}
	}
	return ""
}

// newManifest handles the web form (step 1) and redirects as a confirmation would (step 2).
func (s *Sim) newManifest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	raw := r.PostForm.Get("manifest")
	var m Manifest
	if len(raw) > maxManifestBytes || json.Unmarshal([]byte(raw), &m) != nil {
		http.Error(w, "Invalid GitHub App configuration: the manifest is not JSON", http.StatusUnprocessableEntity)
		return
	}
	if msg := checkManifest(m); msg != "" {
		http.Error(w, "Invalid GitHub App configuration: "+html.EscapeString(msg), http.StatusUnprocessableEntity)
		return
	}
	owner := sender
	if org := r.PathValue("org"); org != "" {
		s.mu.Lock()
		a, ok := s.accounts[strings.ToLower(org)]
		s.mu.Unlock()
		if !ok || a.Type != TypeOrganization {
			http.NotFound(w, r)
			return
		}
		owner = a.Account
	}
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	s.manifests.mu.Lock()
	if s.manifests.pending == nil {
		s.manifests.pending = map[string]*pendingManifest{}
	}
	s.manifests.pending[code] = &pendingManifest{m: m, owner: owner, created: s.now()}
	s.manifests.mu.Unlock()
	q := url.Values{"code": {code}}
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	sep := "?"
	if strings.Contains(m.RedirectURL, "?") {
		sep = "&"
	}
	http.Redirect(w, r, m.RedirectURL+sep+q.Encode(), http.StatusFound)
}

// convertManifest is POST /app-manifests/{code}/conversions (step 3).
func (s *Sim) convertManifest(w http.ResponseWriter, r *http.Request, _ identity) {
	code := r.PathValue("code")
	s.manifests.mu.Lock()
	p, ok := s.manifests.pending[code]
	delete(s.manifests.pending, code) // one use, found or not
	s.manifests.mu.Unlock()
	if !ok || s.now().Sub(p.created) > manifestCodeTTL {
		writeError(w, http.StatusNotFound, msgNotFound, docManifest)
		return
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	webhookSecret := hex.EncodeToString(secret)
	s.manifests.mu.Lock()
	m := p.m
	s.manifests.app = &m
	s.manifests.mu.Unlock()
	if h := m.HookAttributes; h != nil && (h.Active == nil || *h.Active) {
		s.SetWebhook(h.URL, webhookSecret)
	}
	body := s.appJSON(m, p.owner)
	body["client_secret"] = hex.EncodeToString(secret[:16])
	body["webhook_secret"] = webhookSecret
	body["pem"] = string(s.keyPEM)
	writeJSON(w, http.StatusCreated, body)
}

// DefaultAppPermissions are what the simulator's App holds before any manifest conversion:
// everything ghr asks for.
var DefaultAppPermissions = map[string]string{
	"organization_self_hosted_runners": "write", "administration": "write", "actions": "write", "metadata": "read",
}

// getApp is GET /app: the authenticated App.
func (s *Sim) getApp(w http.ResponseWriter, _ *http.Request, _ identity) {
	s.manifests.mu.Lock()
	m := Manifest{Name: "ghr-sim", URL: "https://github.com/ghr-dev/ghr", DefaultPermissions: s.opts.AppPermissions, DefaultEvents: s.opts.AppEvents}
	if s.manifests.app != nil {
		m = *s.manifests.app
	}
	s.manifests.mu.Unlock()
	writeJSON(w, http.StatusOK, s.appJSON(m, sender))
}

// appJSON is the integration schema of GitHub's description.
func (s *Sim) appJSON(m Manifest, owner Account) map[string]any {
	slug := strings.ToLower(strings.NewReplacer(" ", "-", ".", "-", "_", "-").Replace(m.Name))
	t := archiveTime.Format(timeFormat)
	perms := map[string]string{"metadata": "read"}
	for k, v := range m.DefaultPermissions {
		perms[k] = v
	}
	events := m.DefaultEvents
	if events == nil {
		events = []string{}
	}
	s.mu.Lock()
	n := len(s.installs)
	s.mu.Unlock()
	return map[string]any{
		"id": s.opts.AppID, "slug": slug, "node_id": nodeID("A_kwHO", s.opts.AppID), "client_id": "Iv23li" + slug,
		"owner": s.userJSON(owner), "name": m.Name, "description": "", "external_url": m.URL,
		"html_url": webURL + "/apps/" + slug, "created_at": t, "updated_at": t,
		"permissions": perms, "events": events, "installations_count": n,
	}
}

// SetApp changes the App GET /app describes (its name, permissions and events), as editing
// the App's settings on GitHub does.
func (s *Sim) SetApp(m Manifest) {
	s.manifests.mu.Lock()
	s.manifests.app = &m
	s.manifests.mu.Unlock()
}
