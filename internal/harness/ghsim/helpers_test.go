package ghsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/ghr-dev/ghr/internal/githubapp"
)

var (
	keyOnce sync.Once
	keyPEM  []byte
)

// testKey is one App key per test binary: generating RSA keys is the slowest thing here.
func testKey(t testing.TB) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return keyPEM
}

// clock is a settable clock shared by the simulator and the client under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// start runs a simulator for the test, with the shared key.
func start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.PrivateKeyPEM == nil {
		opts.PrivateKeyPEM = testKey(t)
	}
	srv, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// world is the usual fixture: org "octo" (repos app, lib; App on all), user "alice" (repo
// tools; App on it), org "other" (repo x; App installed separately).
type world struct {
	octo, alice, other Installation
}

func seed(t testing.TB, s *Sim) world {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.AddOrg("octo")
	must(err)
	_, err = s.AddUser("alice")
	must(err)
	_, err = s.AddOrg("other")
	must(err)
	for _, r := range [][2]string{{"octo", "app"}, {"octo", "lib"}, {"alice", "tools"}, {"other", "x"}} {
		_, err = s.AddRepo(r[0], r[1])
		must(err)
	}
	var w world
	w.octo, err = s.Install("octo")
	must(err)
	w.alice, err = s.Install("alice")
	must(err)
	w.other, err = s.Install("other")
	must(err)
	return w
}

// app is ghr's GitHub App client aimed at the simulator, pacing disabled.
func app(t testing.TB, srv *Server, now func() time.Time) *githubapp.App {
	t.Helper()
	a, err := githubapp.New(githubapp.Config{AppID: srv.AppID(), PrivateKey: srv.PrivateKeyPEM(), APIURL: srv.URL,
		Pacer: githubapp.NewPacer(1e6, 1e6), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// appJWT signs an App JWT like ghinstallation does, with adjustable claims.
func appJWT(t testing.TB, key []byte, iss any, iat, exp time.Time) string {
	t.Helper()
	k, err := jwt.ParseRSAPrivateKeyFromPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()}).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// validJWT is an App JWT valid on the simulator's clock.
func validJWT(t testing.TB, srv *Server) string {
	now := srv.opts.Now()
	return appJWT(t, srv.PrivateKeyPEM(), strconv.FormatInt(srv.AppID(), 10), now.Add(-30*time.Second), now.Add(9*time.Minute))
}

// installationToken mints a token over the API.
func installationToken(t testing.TB, srv *Server, id int64) string {
	t.Helper()
	resp := call(t, srv, "POST", "/app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens", validJWT(t, srv), nil)
	if resp.status != http.StatusCreated {
		t.Fatalf("access token: %d %s", resp.status, resp.body)
	}
	var out struct{ Token string }
	resp.decode(t, &out)
	return out.Token
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// call makes one raw API request; auth is a token or JWT ("" for none).
func call(t testing.TB, srv *Server, method, path, auth string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// hookSink is a webhook receiver recording what it gets.
type hookSink struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []received
}

type received struct {
	header http.Header
	body   []byte
}

func newSink(t testing.TB) *hookSink {
	k := &hookSink{status: http.StatusAccepted}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.got = append(k.got, received{header: r.Header.Clone(), body: b})
		st := k.status
		k.mu.Unlock()
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *hookSink) setStatus(code int) { k.mu.Lock(); k.status = code; k.mu.Unlock() }

func (k *hookSink) received() []received {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]received(nil), k.got...)
}

// actions lists the (action, job id) of received workflow_job events.
func (k *hookSink) actions(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, r := range k.received() {
		var p struct {
			Action      string
			WorkflowJob struct{ ID int64 } `json:"workflow_job"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Action+" "+strconv.FormatInt(p.WorkflowJob.ID, 10))
	}
	return out
}

func flush(t testing.TB, s *Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
