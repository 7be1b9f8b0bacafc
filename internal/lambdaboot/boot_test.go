package lambdaboot

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
)

// The App a function boots paces on the GITHUB_POINTS_PER_MINUTE its config read: with the
// minimum of 10 a second mutation within the minute must wait (and is refused at once when
// the caller's deadline is nearer), with the default 900 it goes through.
func TestGitHubAppPacesOnItsShare(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"token":"ghs_x","expires_at":"2099-01-01T00:00:00Z"}`))
	}))
	defer srv.Close()

	for _, tc := range []struct {
		points     string
		wantPaced  bool
		wantLogged string
	}{
		{points: "10", wantPaced: true, wantLogged: `"points_per_minute":[10]`},
		{points: "", wantPaced: false, wantLogged: `"points_per_minute":[900]`},
	} {
		env := config.MapEnv(map[string]string{"GITHUB_APP_ID": "7", "GITHUB_APP_KEY": string(pemKey), "GITHUB_API_URL": srv.URL,
			"GITHUB_POINTS_PER_MINUTE": tc.points})
		src := config.ReadGitHubApp(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		b := &Boot{Ctx: context.Background(), Log: slog.New(slog.NewJSONHandler(&logs, nil))}
		app := b.GitHubApp(src)
		if !strings.Contains(logs.String(), tc.wantLogged) {
			t.Errorf("GITHUB_POINTS_PER_MINUTE=%q: log %q lacks %s", tc.points, logs.String(), tc.wantLogged)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var errs []error
		for i := range 2 {
			_, _, err := app.Webhook().AppClient().Apps.CreateInstallationToken(ctx, int64(i+1), nil)
			errs = append(errs, err)
		}
		cancel()
		var paced *githubapp.RateLimitError
		if errs[0] != nil {
			t.Fatalf("GITHUB_POINTS_PER_MINUTE=%q: first mutation: %v", tc.points, errs[0])
		}
		if got := errors.As(errs[1], &paced) && paced.Paced; got != tc.wantPaced {
			t.Errorf("GITHUB_POINTS_PER_MINUTE=%q: second mutation err = %v, want paced %v", tc.points, errs[1], tc.wantPaced)
		}
	}
}
