package syncer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
)

func TestCredentialsToken(t *testing.T) {
	e := config.MapEnv(map[string]string{"PREFIX": "ghr", "DIST_BUCKET": "b", "GITHUB_TOKEN": "ghp_x"})
	cfg := config.ReadSyncer(e)
	tok, err := Credentials(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tok(context.Background()); got != "ghp_x" {
		t.Errorf("token %q", got)
	}
	cfg.Token = nil
	if tok, err := Credentials(context.Background(), cfg, nil); tok != nil || err != nil {
		t.Errorf("no credentials: %v, %v; want anonymous", tok != nil, err)
	}
}

// TestCredentialsApp: with an App, the syncer lists the App's installations once (JWT) and
// uses an installation token, cached, for its calls.
func TestCredentialsApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var lists, mints atomic.Int64
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
			http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v3/app/installations":
			lists.Add(1)
			_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 77, "account": map[string]any{"login": "octo-org"}}})
		case "/api/v3/app/installations/77/access_tokens":
			mints.Add(1)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"token": "ghs_inst77", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
		default:
			http.NotFound(w, r)
		}
	}))
	defer gh.Close()
	e := config.MapEnv(map[string]string{"PREFIX": "ghr", "DIST_BUCKET": "b", "GITHUB_APP_ID": "12",
		"GITHUB_APP_KEY": string(pemKey), "GITHUB_API_URL": gh.URL + "/api/v3"})
	cfg := config.ReadSyncer(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	tok, err := Credentials(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := tok(context.Background()); got != "ghs_inst77" || err != nil {
			t.Fatalf("token %q, %v", got, err)
		}
	}
	if lists.Load() != 1 || mints.Load() != 1 {
		t.Errorf("%d installation lists, %d token mints: want one each", lists.Load(), mints.Load())
	}
}
