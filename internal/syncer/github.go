package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitHub limits.
const (
	// metadataTimeout bounds a release lookup; GitHub answers in well under a second.
	metadataTimeout = 30 * time.Second
	// headerTimeout bounds the wait for a download's first byte; the body itself is bounded
	// by the caller's context, since a 200 MB stream takes longer than any fixed timeout.
	headerTimeout = 30 * time.Second
	// maxErrorBody is how much of an error answer is quoted in the error.
	maxErrorBody = 512
	// maxRedirects matches net/http's default; GitHub uses one.
	maxRedirects = 10
	// maxReleaseJSON bounds the release document (notes plus a few dozen assets).
	maxReleaseJSON = 4 << 20
)

// Release is the part of a GitHub release the syncer uses.
type Release struct {
	Version string // tag without the leading v, e.g. 2.321.0
	Body    string // release notes; actions/runner publishes hashes there
	Assets  []Asset
}

// Asset is one release asset.
type Asset struct {
	ID     int64
	Name   string
	URL    string // API URL; with Accept: application/octet-stream it serves the bytes
	Size   int64
	Digest string // "sha256:<hex>" where GitHub computed one
}

// TokenSource returns a GitHub token for a request; nil means anonymous.
type TokenSource func(ctx context.Context) (string, error)

// GitHub reads releases of one repository through the REST API (github.com or GitHub
// Enterprise Server) and streams their assets.
type GitHub struct {
	APIURL string // "" for github.com, https://HOST/api/v3 for GHES
	Repo   string // owner/name
	Token  TokenSource
	HTTP   *http.Client // nil: NewHTTPClient(); never one with an overall timeout, downloads are long streams
}

// NewHTTPClient is a client for GitHub downloads: bounded waits for headers, unbounded bodies.
// It never forwards the token on a redirect: asset redirects go to pre-signed storage URLs,
// which must not see it (S3-backed storage even refuses a request carrying both), and Go
// would forward it to a storage host that shares the API's domain, as on some GHES setups.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = headerTimeout
	return &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		req.Header.Del("Authorization")
		return nil
	}}
}

type releaseJSON struct {
	TagName string `json:"tag_name"`
	Body    string `json:"body"`
	Assets  []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		URL    string `json:"url"`
		Size   int64  `json:"size"`
		Digest string `json:"digest"`
	} `json:"assets"`
}

// Release returns the latest release (version "latest") or the release tagged v<version>.
func (g *GitHub) Release(ctx context.Context, version string) (*Release, error) {
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	path := "releases/latest"
	if version != "latest" {
		path = "releases/tags/v" + version
	}
	u, err := g.apiURL("repos", g.Repo, path)
	if err != nil {
		return nil, err
	}
	resp, err := g.get(ctx, u, "application/vnd.github+json")
	if err != nil {
		return nil, fmt.Errorf("release %s of %s: %w", version, g.Repo, err)
	}
	defer resp.Body.Close()
	var rj releaseJSON
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReleaseJSON)).Decode(&rj); err != nil {
		return nil, fmt.Errorf("release %s of %s: decode: %w", version, g.Repo, err)
	}
	rel := &Release{Version: strings.TrimPrefix(rj.TagName, "v"), Body: rj.Body}
	if rel.Version == "" {
		return nil, fmt.Errorf("release %s of %s: no tag name", version, g.Repo)
	}
	for _, a := range rj.Assets {
		rel.Assets = append(rel.Assets, Asset{ID: a.ID, Name: a.Name, URL: a.URL, Size: a.Size, Digest: a.Digest})
	}
	return rel, nil
}

// Open streams an asset's bytes. GitHub answers with a redirect to its storage, which the
// client follows without the token (NewHTTPClient).
func (g *GitHub) Open(ctx context.Context, a Asset) (io.ReadCloser, error) {
	resp, err := g.get(ctx, a.URL, "application/octet-stream")
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", a.Name, err)
	}
	return resp.Body, nil
}

func (g *GitHub) get(ctx context.Context, u, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.Token != nil {
		tok, err := g.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("github token: %w", err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	client := g.HTTP
	if client == nil {
		client = NewHTTPClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &HTTPError{Status: resp.StatusCode, URL: u, Body: strings.TrimSpace(string(msg)),
			RateLimited: resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.StatusCode == http.StatusTooManyRequests}
	}
	return resp, nil
}

func (g *GitHub) apiURL(elem ...string) (string, error) {
	base := g.APIURL
	if base == "" {
		base = "https://api.github.com"
	}
	u, err := url.JoinPath(base, elem...)
	if err != nil {
		return "", fmt.Errorf("github api url %q: %w", base, err)
	}
	return u, nil
}

// HTTPError is a non-200 answer from GitHub.
type HTTPError struct {
	Status      int
	URL         string
	Body        string
	RateLimited bool // anonymous callers get 60 requests an hour: configure a token or App
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("GET %s: HTTP %d: %s", e.URL, e.Status, e.Body)
	if e.RateLimited {
		s += " (rate limited: give the syncer GITHUB_TOKEN or a GitHub App)"
	}
	return s
}

// IsNotFound reports whether err is GitHub's 404, e.g. a pinned version that does not exist.
func IsNotFound(err error) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.Status == http.StatusNotFound
}
