package ghsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

func TestAppJWT(t *testing.T) {
	srv := start(t, Options{AppID: 42})
	seed(t, srv.Sim)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	now := time.Now()
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "42", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	key := srv.PrivateKeyPEM()
	tests := []struct {
		name string
		tok  string
		want int
		msg  string
	}{
		{"valid, iss as string", appJWT(t, key, "42", now.Add(-30*time.Second), now.Add(9*time.Minute)), 200, ""},
		{"valid, iss as number", appJWT(t, key, 42, now, now.Add(time.Minute)), 200, ""},
		{"other key", appJWT(t, otherPEM, "42", now, now.Add(time.Minute)), 401, msgJWTDecode},
		{"HS256", hs256, 401, msgJWTDecode},
		{"wrong issuer", appJWT(t, key, "7", now, now.Add(time.Minute)), 401, msgJWTIssuer},
		{"expired", appJWT(t, key, "42", now.Add(-5*time.Minute), now.Add(-time.Second)), 401, msgJWTExpired},
		{"over ten minutes", appJWT(t, key, "42", now, now.Add(20*time.Minute)), 401, msgJWTTooLong},
		{"issued in the future", appJWT(t, key, "42", now.Add(5*time.Minute), now.Add(9*time.Minute)), 401, msgJWTIssuedAt},
		{"garbage", "a.b.c", 401, msgJWTDecode},
		{"none", "", 401, msgRequiresAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, srv, "GET", "/app/installations", tt.tok, nil)
			if a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
			if tt.msg != "" {
				var e struct{ Message string }
				a.decode(t, &e)
				if e.Message != tt.msg {
					t.Fatalf("message = %q, want %q", e.Message, tt.msg)
				}
			}
		})
	}
}

func TestInstallationTokenScope(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now, TokenLifetime: 10 * time.Minute})
	w := seed(t, srv.Sim)
	if _, err := srv.AddRepo("octo", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddOrg("sel"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"in", "out"} {
		if _, err := srv.AddRepo("sel", r); err != nil {
			t.Fatal(err)
		}
	}
	sel, err := srv.Install("sel", "in")
	if err != nil {
		t.Fatal(err)
	}
	octo := installationToken(t, srv, w.octo.ID)
	selTok := installationToken(t, srv, sel.ID)
	jwt := validJWT(t, srv)
	tests := []struct {
		name, method, path, tok string
		want                    int
	}{
		{"own org", "GET", "/orgs/octo/actions/runners", octo, 200},
		{"own repo", "GET", "/repos/octo/app/actions/runners", octo, 200},
		{"other org", "GET", "/orgs/other/actions/runners", octo, 403},
		{"other org's repo", "GET", "/repos/other/x/actions/runners", octo, 404},
		{"user repo", "GET", "/repos/alice/tools/actions/runners", octo, 404},
		{"unknown org", "GET", "/orgs/nobody/actions/runners", octo, 404},
		{"user as org", "GET", "/orgs/alice/actions/runners", installationToken(t, srv, w.alice.ID), 404},
		{"selected repo", "GET", "/repos/sel/in/actions/runners", selTok, 200},
		{"unselected repo", "GET", "/repos/sel/out/actions/runners", selTok, 404},
		{"other org's jit", "POST", "/orgs/other/actions/runners/generate-jitconfig", octo, 403},
		{"other org's delete", "DELETE", "/orgs/other/actions/runners/1", octo, 403},
		{"other repo's job", "GET", "/repos/other/x/actions/jobs/1", octo, 404},
		{"token on app endpoint", "GET", "/app/installations", octo, 401},
		{"jwt on installation endpoint", "GET", "/orgs/octo/actions/runners", jwt, 403},
		{"bad token", "GET", "/orgs/octo/actions/runners", "ghs_nope", 401},
		{"no token", "GET", "/orgs/octo/actions/runners", "", 401},
		{"public release, no token", "GET", "/repos/actions/runner/releases/latest", "", 200},
		{"public release, bad token", "GET", "/repos/actions/runner/releases/latest", "ghs_nope", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := any(nil)
			if tt.method == "POST" {
				body = map[string]any{"name": "n", "runner_group_id": 1, "labels": []string{"a"}}
			}
			if a := call(t, srv, tt.method, tt.path, tt.tok, body); a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
		})
	}

	clk.Advance(10 * time.Minute)
	if a := call(t, srv, "GET", "/orgs/octo/actions/runners", octo, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("expired token: status = %d, want 401", a.status)
	}
	var tok struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	call(t, srv, "POST", "/app/installations/"+strconv.FormatInt(w.octo.ID, 10)+"/access_tokens", validJWT(t, srv), nil).decode(t, &tok)
	if want := clk.Now().Add(10 * time.Minute); !tok.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %s, want %s (configured lifetime)", tok.ExpiresAt, want)
	}
}

func TestGoAPIErrors(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	if _, err := srv.AddOrg("OCTO"); err == nil {
		t.Fatal("logins are case-insensitive: OCTO duplicates octo")
	}
	if _, err := srv.AddRepo("nobody", "x"); err == nil {
		t.Fatal("repository of an unknown owner")
	}
	if _, err := srv.Install("octo"); err == nil {
		t.Fatal("second installation in one account")
	}
	if _, err := srv.AddUser("a/b"); err == nil {
		t.Fatal("login with a slash")
	}
	if _, err := srv.QueueJob(JobSpec{Repo: "octo/nope", Labels: []string{"x"}}); err == nil {
		t.Fatal("job in an unknown repository")
	}
	if _, err := srv.QueueJob(JobSpec{Repo: "octo/app"}); err == nil {
		t.Fatal("job without labels")
	}
	if _, err := srv.ConnectRegistration("bogus", "r", nil, false); err == nil {
		t.Fatal("unknown registration token")
	}
	if _, err := srv.ConnectJIT("bm90IGpzb24="); err == nil {
		t.Fatal("JIT config that is not one")
	}
	if _, err := New(Options{PrivateKeyPEM: []byte("nope")}); err == nil {
		t.Fatal("bad key")
	}
	if _, err := New(Options{PrivateKeyPEM: testKey(t), RunnerReleases: []Release{{}}}); err == nil {
		t.Fatal("release without tag")
	}
}
