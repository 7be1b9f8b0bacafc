package githubapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
)

const testAppID = 4242

// fakeGitHub is a small stateful GitHub: it verifies App JWTs with the App's public key,
// mints installation tokens with an expiry, and serves a few installation-scoped endpoints.
type fakeGitHub struct {
	t        *testing.T
	pub      *rsa.PublicKey
	now      func() time.Time
	mints    atomic.Int32
	lookups  atomic.Int32
	mu       sync.Mutex
	tokens   map[string]int64 // token → installation
	override func(w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.override != nil && f.override(w, r) {
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case r.Method == "POST" && strings.HasPrefix(path, "/app/installations/") && strings.HasSuffix(path, "/access_tokens"):
		if !f.appJWT(w, r) {
			return
		}
		var id int64
		fmt.Sscanf(path, "/app/installations/%d/access_tokens", &id)
		n := f.mints.Add(1)
		tok := fmt.Sprintf("ghs_test_%d_%d", id, n)
		f.mu.Lock()
		f.tokens[tok] = id
		f.mu.Unlock()
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_at": f.now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == "GET" && (path == "/orgs/octo/installation" || path == "/repos/solo/app/installation"):
		if !f.appJWT(w, r) {
			return
		}
		f.lookups.Add(1)
		id := 11
		if strings.HasPrefix(path, "/repos") {
			id = 22
		}
		json.NewEncoder(w).Encode(map[string]any{"id": id})
	case r.Method == "GET" && strings.HasPrefix(path, "/orgs/octo/actions/runners"):
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
		f.mu.Lock()
		_, ok := f.tokens[tok]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(f.now().Add(time.Hour).Unix()))
		json.NewEncoder(w).Encode(map[string]any{"total_count": 0, "runners": []any{}})
	default:
		w.WriteHeader(404)
		w.Write([]byte(`{"message":"Not Found"}`))
	}
}

func (f *fakeGitHub) appJWT(w http.ResponseWriter, r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims := &jwt.RegisteredClaims{}
	if ok {
		_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return f.pub, nil })
		ok = err == nil && claims.Issuer == fmt.Sprint(testAppID)
	}
	if !ok {
		w.WriteHeader(401)
		w.Write([]byte(`{"message":"A JSON web token could not be decoded"}`))
	}
	return ok
}

func testKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestApp(t *testing.T, basePath string) (*App, *fakeGitHub, *clock) {
	t.Helper()
	key, pemKey := testKey(t)
	clk := &clock{t: time.Now()}
	f := &fakeGitHub{t: t, pub: &key.PublicKey, now: clk.Now, tokens: map[string]int64{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	app, err := New(Config{AppID: testAppID, PrivateKey: pemKey, APIURL: srv.URL + basePath, Pacer: NewPacer(1e6, 1e6), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return app, f, clk
}

func TestTokenCachedAndSharedUnderConcurrency(t *testing.T) {
	app, f, _ := newTestApp(t, "/api/v3")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := app.Client(7).Actions.ListOrganizationRunners(ctx, "octo", nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.mints.Load(); n != 1 {
		t.Fatalf("minted %d tokens for one installation, want 1", n)
	}
	if _, err := app.Token(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if n := f.mints.Load(); n != 2 {
		t.Fatalf("a second installation must get its own token: %d mints", n)
	}
	calls := app.Stats().Calls()
	if calls["GET /orgs/{org}/actions/runners"] != 50 || calls["POST /app/installations/{id}/access_tokens"] != 2 {
		t.Fatalf("calls by endpoint = %v", calls)
	}
	if rem, _ := app.Stats().Remaining(); rem != 4999 {
		t.Fatalf("remaining = %d, want 4999 from the headers", rem)
	}
}

func TestTokenRefreshedFiveMinutesBeforeExpiry(t *testing.T) {
	app, f, clk := newTestApp(t, "")
	ctx := context.Background()
	first, err := app.Token(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(54*time.Minute + 59*time.Second) // 5m01s left
	if tok, _ := app.Token(ctx, 1); tok != first {
		t.Fatal("token replaced with more than 5 minutes left")
	}
	clk.Add(2 * time.Second) // 4m59s left
	tok, err := app.Token(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tok == first || f.mints.Load() != 2 {
		t.Fatalf("token not refreshed inside the 5-minute margin (mints %d)", f.mints.Load())
	}
}

func TestInstallationIDResolvedOnceAndRemembered(t *testing.T) {
	app, f, _ := newTestApp(t, "")
	ctx := context.Background()
	for range 3 {
		if id, err := app.InstallationID(ctx, "octo"); err != nil || id != 11 {
			t.Fatalf("org installation = %d, %v", id, err)
		}
		if id, err := app.InstallationID(ctx, "solo/app"); err != nil || id != 22 {
			t.Fatalf("repo installation = %d, %v", id, err)
		}
	}
	if n := f.lookups.Load(); n != 2 {
		t.Fatalf("lookups = %d, want 2 (cached after the first)", n)
	}
	app.RememberInstallation("other", 33)
	if id, err := app.InstallationID(ctx, "other"); err != nil || id != 33 || f.lookups.Load() != 2 {
		t.Fatalf("remembered installation = %d, %v", id, err)
	}
	if _, err := app.InstallationID(ctx, "missing"); err == nil {
		t.Fatal("unknown org resolved")
	}
}

func TestRateLimitsBecomeTypedErrors(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name          string
		status        int
		headers       map[string]string
		body          string
		wantLimit     bool
		wantSecondary bool
		wantWait      time.Duration
	}{
		{"secondary with Retry-After", 403, map[string]string{"Retry-After": "30"}, `{"message":"You have exceeded a secondary rate limit"}`, true, true, 30 * time.Second},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, ``, true, true, 7 * time.Second},
		{"429 bare", 429, nil, ``, true, true, time.Minute},
		{"secondary by message only", 403, nil, `{"message":"You have exceeded a secondary rate limit. Please wait."}`, true, true, time.Minute},
		{"primary exhausted", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(now.Add(90 * time.Second).Unix())}, `{"message":"API rate limit exceeded"}`, true, false, 90 * time.Second},
		{"plain permission error", 403, map[string]string{"X-RateLimit-Remaining": "4000"}, `{"message":"Resource not accessible by integration"}`, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, f, _ := newTestApp(t, "")
			f.override = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/actions/runners") {
					return false
				}
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
				return true
			}
			_, _, err := app.Client(1).Actions.ListOrganizationRunners(context.Background(), "octo", nil)
			if err == nil {
				t.Fatal("no error")
			}
			wait, limited := RateLimitWait(err)
			if limited != tt.wantLimit {
				t.Fatalf("RateLimitWait(%v) limited = %v, want %v", err, limited, tt.wantLimit)
			}
			var rl *RateLimitError
			if tt.wantLimit {
				if !errors.As(err, &rl) || rl.Secondary != tt.wantSecondary || rl.Endpoint != "GET /orgs/{org}/actions/runners" {
					t.Fatalf("error %v: want *RateLimitError secondary=%v", err, tt.wantSecondary)
				}
				// A reset time counts down from the table's now, so a loaded machine may have
				// used up part of it before the call.
				if d := wait - tt.wantWait; d < -2*time.Second-time.Since(now) || d > 2*time.Second {
					t.Fatalf("wait = %s, want about %s", wait, tt.wantWait)
				}
				if app.Stats().RateLimited()["GET /orgs/{org}/actions/runners"] != 1 {
					t.Fatalf("rate-limited counts = %v", app.Stats().RateLimited())
				}
			} else {
				var ghErr *github.ErrorResponse
				if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != 403 {
					t.Fatalf("plain 403 should stay a go-github error with its body, got %T %v", err, err)
				}
			}
		})
	}
}

func TestEndpointTemplates(t *testing.T) {
	tests := map[[3]string]string{
		{"POST", "/orgs/octo/actions/runners/generate-jitconfig", ""}:                "POST /orgs/{org}/actions/runners/generate-jitconfig",
		{"POST", "/api/v3/repos/o/r/actions/runners/generate-jitconfig", "/api/v3/"}: "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
		{"DELETE", "/orgs/octo/actions/runners/123", "/"}:                            "DELETE /orgs/{org}/actions/runners/{id}",
		{"GET", "/repos/o/r/actions/jobs/99", ""}:                                    "GET /repos/{owner}/{repo}/actions/jobs/{id}",
		{"POST", "/app/hook/deliveries/5/attempts", ""}:                              "POST /app/hook/deliveries/{id}/attempts",
		{"GET", "/users/bob/installation", ""}:                                       "GET /users/{user}/installation",
	}
	for in, want := range tests {
		if got := Endpoint(in[0], in[1], in[2]); got != want {
			t.Errorf("Endpoint(%q, %q, %q) = %q, want %q", in[0], in[1], in[2], got, want)
		}
	}
}

func TestPacerHoldsBurstsUnderTheBudget(t *testing.T) {
	p := NewPacer(60, 10) // 1 point per second after a burst of 10
	l := p.limiter("POST /x")
	start := time.Now()
	if !l.AllowN(start, 10) {
		t.Fatal("burst not allowed")
	}
	if l.AllowN(start, mutationPoints) {
		t.Fatal("a mutation over the burst went through without waiting")
	}
	if !l.AllowN(start.Add(5*time.Second), mutationPoints) {
		t.Fatal("refill did not allow a mutation after 5 s")
	}
	if p.limiter("POST /y").Tokens() != 10 {
		t.Fatal("endpoints must not share a bucket")
	}
}

func TestLoadAndKeyFormats(t *testing.T) {
	_, pemKey := testKey(t)
	ctx := context.Background()
	src := config.GitHubApp{AppID: config.Secret{Env: "GITHUB_APP_ID", Value: "4242"}, PrivateKey: config.Secret{Env: "GITHUB_APP_KEY", Value: base64.StdEncoding.EncodeToString(pemKey)}}
	if _, err := Load(ctx, src, nil, Config{}); err != nil {
		t.Fatalf("base64 key: %v", err)
	}
	src.PrivateKey.Value = string(pemKey)
	if _, err := Load(ctx, src, nil, Config{}); err != nil {
		t.Fatalf("PEM key: %v", err)
	}
	for name, bad := range map[string]config.GitHubApp{
		"id not a number": {AppID: config.Secret{Value: "abc"}, PrivateKey: src.PrivateKey},
		"key garbage":     {AppID: src.AppID, PrivateKey: config.Secret{Value: "not a key"}},
		"bad api url":     {AppID: src.AppID, PrivateKey: src.PrivateKey, APIURL: "ftp://x"},
	} {
		if _, err := Load(ctx, bad, nil, Config{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Id and key parameters swapped: the error names the parameter, never the key.
	swapped := config.GitHubApp{AppID: config.Secret{Env: "GITHUB_APP_ID", Value: string(pemKey)}, PrivateKey: src.AppID}
	_, err := Load(ctx, swapped, nil, Config{})
	if err == nil || strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), string(pemKey[40:80])) {
		t.Errorf("swapped id and key: error carries the key: %v", err)
	}
}
