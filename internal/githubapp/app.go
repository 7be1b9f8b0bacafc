// Package githubapp is ghr's GitHub App library: App JWTs, a per-installation token cache
// shared by every call in a warm Lambda, go-github clients for github.com or GitHub
// Enterprise Server (or the local simulator), installation lookup, and call accounting.
package githubapp

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"
)

// Token lifetimes.
const (
	// tokenRefreshMargin: a token is replaced this long before it expires, so a call that
	// starts with it (or a runner registration that takes a while) never carries a dead one.
	tokenRefreshMargin = 5 * time.Minute
	// httpTimeout bounds one GitHub request; Lambda timeouts are longer than this.
	httpTimeout = 20 * time.Second
)

// Config describes one GitHub App.
type Config struct {
	AppID      int64
	PrivateKey []byte // PEM, or base64 of PEM as terraform-aws-github-runner stores it
	// APIURL is "" for github.com, "https://HOST/api/v3" for GitHub Enterprise Server, or the
	// local simulator's URL.
	APIURL string
	// Base is the HTTP transport under accounting; nil uses http.DefaultTransport.
	Base http.RoundTripper
	// Pacer paces calls under GitHub's secondary limits; nil uses NewBudgetPacer with
	// PointsPerMinute. Tests that must not wait pass NewPacer with a high rate.
	Pacer *Pacer
	// PointsPerMinute is this container's share of the deployment's secondary-limit budget
	// per endpoint (GITHUB_POINTS_PER_MINUTE); 0 is config.DefaultGitHubPointsPerMinute, the
	// pacing of a single container. Ignored when Pacer is set.
	PointsPerMinute int

	Stats *Stats // nil creates one
	Now   func() time.Time
}

// App holds clients and caches for one GitHub App; one per Lambda container.
type App struct {
	appID   int64
	baseURL *url.URL
	key     *rsa.PrivateKey
	http    *http.Client // accounting transport, no auth
	app     *github.Client
	now     func() time.Time
	stats   *Stats
	pacer   *Pacer

	mu      sync.Mutex
	tokens  map[int64]*tokenEntry
	clients map[int64]*github.Client
	owners  map[string]int64 // "org" or "owner/repo" → installation id
}

type tokenEntry struct {
	mu      sync.Mutex // serialises minting for one installation
	token   string
	expires time.Time
}

// New builds an App. It parses the key once; no network call is made.
func New(cfg Config) (*App, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("github app: app id must be positive")
	}
	key, err := ParsePrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	base, err := apiBaseURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	if cfg.Stats == nil {
		cfg.Stats = NewStats()
	}
	if cfg.Pacer == nil {
		cfg.Pacer = DefaultPacer()
		if cfg.PointsPerMinute > 0 {
			cfg.Pacer = NewBudgetPacer(cfg.PointsPerMinute)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tr := &Transport{Base: cfg.Base, Stats: cfg.Stats, Pacer: cfg.Pacer, BasePath: base.Path, Now: cfg.Now}
	a := &App{
		appID: cfg.AppID, baseURL: base, key: key, now: cfg.Now, stats: cfg.Stats, pacer: cfg.Pacer,
		http:    &http.Client{Transport: tr, Timeout: httpTimeout},
		tokens:  map[int64]*tokenEntry{},
		clients: map[int64]*github.Client{},
		owners:  map[string]int64{},
	}
	jwtTr := ghinstallation.NewAppsTransportFromPrivateKey(tr, cfg.AppID, key)
	a.app = a.newClient(jwtTr)
	return a, nil
}

// ID returns the App's id.
func (a *App) ID() int64 { return a.appID }

// Stats returns the App's call accounting.
func (a *App) Stats() *Stats { return a.stats }

// AppClient returns a client authenticated as the App itself (JWT): app hook deliveries,
// installation lookup.
func (a *App) AppClient() *github.Client { return a.app }

// Client returns a client authenticated as the installation, reusing the cached token.
func (a *App) Client(installationID int64) *github.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.clients[installationID]
	if !ok {
		c = a.newClient(&installationTransport{app: a, id: installationID, base: a.http.Transport})
		a.clients[installationID] = c
	}
	return c
}

func (a *App) newClient(tr http.RoundTripper) *github.Client {
	c := github.NewClient(&http.Client{Transport: tr, Timeout: httpTimeout})
	u := *a.baseURL
	c.BaseURL = &u
	return c
}

// Token returns an installation token valid for at least tokenRefreshMargin, minting one at
// most once per installation at a time.
func (a *App) Token(ctx context.Context, installationID int64) (string, error) {
	a.mu.Lock()
	e, ok := a.tokens[installationID]
	if !ok {
		e = &tokenEntry{}
		a.tokens[installationID] = e
	}
	a.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != "" && a.now().Add(tokenRefreshMargin).Before(e.expires) {
		return e.token, nil
	}
	tok, _, err := a.app.Apps.CreateInstallationToken(ctx, installationID, nil)
	if err != nil {
		return "", fmt.Errorf("create installation token for %d: %w", installationID, err)
	}
	e.token, e.expires = tok.GetToken(), tok.GetExpiresAt().Time
	return e.token, nil
}

// InstallationID resolves the installation for an owner: an org ("octo") or a repository
// ("octo/app"). Results are cached for the container's life; installations rarely move.
func (a *App) InstallationID(ctx context.Context, owner string) (int64, error) {
	a.mu.Lock()
	id, ok := a.owners[owner]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	var inst *github.Installation
	var err error
	if org, repo, isRepo := strings.Cut(owner, "/"); isRepo {
		inst, _, err = a.app.Apps.FindRepositoryInstallation(ctx, org, repo)
	} else {
		inst, _, err = a.app.Apps.FindOrganizationInstallation(ctx, owner)
	}
	if err != nil {
		return 0, fmt.Errorf("find installation for %s: %w", owner, err)
	}
	a.mu.Lock()
	a.owners[owner] = inst.GetID()
	a.mu.Unlock()
	return inst.GetID(), nil
}

// RememberInstallation records an installation id learned from an event, saving a lookup.
func (a *App) RememberInstallation(owner string, id int64) {
	if id <= 0 {
		return
	}
	a.mu.Lock()
	a.owners[owner] = id
	a.mu.Unlock()
}

type installationTransport struct {
	app  *App
	id   int64
	base http.RoundTripper
}

func (t *installationTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.app.Token(req.Context(), t.id)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "token "+tok)
	return t.base.RoundTrip(r)
}

// ParsePrivateKey accepts a PEM RSA key or base64 of one.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, errors.New("github app: private key is empty")
	}
	if !strings.HasPrefix(s, "-----BEGIN") {
		dec, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("github app: private key is neither PEM nor base64 of PEM")
		}
		s = string(dec)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("github app: parse private key: %w", err)
	}
	return key, nil
}

func apiBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = "https://api.github.com/"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("github app: api url %q: want https://HOST/api/v3", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}
