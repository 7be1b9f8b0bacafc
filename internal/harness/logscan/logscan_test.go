package logscan

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
)

var testKeyPEM = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
})

const (
	webhookSecret = `we<b>hook "s3cret" & more\`
	clientID      = "0f8fad5b-d9cb-469f-a165-70867728950e"
	rsaModulus    = "u0TtZ4b2bF9dQk1vX8pWc3nYhR7mJ2sLqA6eG5iK0oP9zVxC4wN1yU8tB3rD7fE"
	instanceToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
)

// jitConfig builds an encoded JIT config the way GitHub (and ghsim) shape it.
func jitConfig(t testing.TB) string {
	t.Helper()
	b64 := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	return b64(map[string]string{
		".runner":                b64(map[string]any{"AgentId": 17, "AgentName": "ghr-i-0123456789abcdef0", "GitHubUrl": "https://github.com/octo", "WorkFolder": "_work"}),
		".credentials":           b64(map[string]any{"Scheme": "OAuth", "Data": map[string]string{"ClientId": clientID, "AuthorizationUrl": "https://pipelines.actions.githubusercontent.com/_apis/oauth2/token/" + clientID}}),
		".credentials_rsaparams": b64(map[string]string{"d": "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0", "exponent": "AQAB", "modulus": rsaModulus}),
	})
}

func secrets(t testing.TB) map[string]string {
	return map[string]string{"app key": testKeyPEM(), "webhook secret": webhookSecret, "jit": jitConfig(t), "empty": "  "}
}

func pemBodyLine(n int) string {
	lines := strings.Split(testKeyPEM(), "\n")
	return lines[n] // line 0 is the BEGIN header
}

func jsonLog(msg string, args ...any) string {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info(msg, args...)
	return strings.TrimSpace(b.String())
}

func TestScan(t *testing.T) {
	jit := jitConfig(t)
	marshalled, _ := json.Marshal(map[string]string{"secret": webhookSecret})
	tests := []struct {
		name string
		line string
		want []string // secret names found, sorted; nil = clean
	}{
		{"clean JSON log", jsonLog("webhook", "delivery_id", "d-1", "runner", "ghr-i-0123456789abcdef0", "job_id", 42), nil},
		{"webhook secret raw", "secret is " + webhookSecret, []string{"webhook secret"}},
		{"webhook secret through slog", jsonLog("oops", "secret", webhookSecret), []string{"webhook secret"}},
		{"webhook secret through json.Marshal (HTML-escaped)", string(marshalled), []string{"webhook secret"}},
		{"webhook secret via %q", fmt.Sprintf("cfg %q", webhookSecret), []string{"webhook secret"}},
		{"webhook secret base64", "body=" + base64.StdEncoding.EncodeToString([]byte(webhookSecret)), []string{"webhook secret"}},
		{"one PEM body line", "key fragment " + pemBodyLine(3), []string{"app key (PEM line 3)"}},
		{"whole PEM through slog", jsonLog("loaded", "key", testKeyPEM()), nil}, // checked below: every line and the header
		{"installation token by shape", jsonLog("token", "value", instanceToken), []string{"installation token"}},
		{"token-like but short", "ghs_abc and ghs_ and gh_1234", nil},
		{"JWT by shape", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIiwiaWF0IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJlc2ln", []string{"JWT"}},
		{"private key header", strings.SplitN(testKeyPEM(), "\n", 2)[0], []string{"private key"}},
		{"whole JIT config", jsonLog("jit", "config", jit), []string{"jit"}},
		{"JIT client id alone", "redeemed " + clientID, []string{"jit (.credentials.Data.ClientId)"}},
		{"JIT authorization URL", "GET https://pipelines.actions.githubusercontent.com/_apis/oauth2/token/" + clientID, []string{"jit (.credentials.Data.ClientId)"}},
		{"JIT RSA modulus", `{"modulus":"` + rsaModulus + `"}`, []string{"jit (.credentials_rsaparams.modulus)"}},
		{"JIT runner name and URL are not secret", "runner ghr-i-0123456789abcdef0 at https://github.com/octo _work", nil},
		{"public exponent is not secret", "exponent AQAB", nil},
	}
	s := New(secrets(t), DefaultPatterns)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := s.Line(7, tt.line)
			var names []string
			for _, f := range found {
				if f.Line != 7 || f.Column < 1 || f.Column > len(tt.line) {
					t.Errorf("bad position %+v", f)
				}
				names = append(names, f.Secret)
			}
			slices.Sort(names)
			names = slices.Compact(names)
			if tt.name == "whole PEM through slog" {
				checkWholePEM(t, names)
				return
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("found %q, want %q", names, tt.want)
			}
		})
	}
}

// checkWholePEM: a key logged whole is reported by its header and by every full body line.
func checkWholePEM(t *testing.T, names []string) {
	t.Helper()
	full := 0
	for _, l := range strings.Split(testKeyPEM(), "\n") {
		if len(l) >= minPEMLine && !strings.HasPrefix(l, "-----") {
			full++
		}
	}
	lines := 0
	for _, n := range names {
		if strings.HasPrefix(n, "app key (PEM line ") {
			lines++
		}
	}
	if lines != full || !slices.Contains(names, "private key") {
		t.Fatalf("found %d of %d PEM lines (header found: %v): %q", lines, full, slices.Contains(names, "private key"), names)
	}
}

func TestBase64KeyAndEscapedNewlines(t *testing.T) {
	s := New(map[string]string{
		"b64 key": base64.StdEncoding.EncodeToString([]byte(testKeyPEM())),
		"env key": strings.ReplaceAll(testKeyPEM(), "\n", `\n`),
	}, nil)
	found := s.Line(1, pemBodyLine(5))
	var names []string
	for _, f := range found {
		names = append(names, f.Secret)
	}
	slices.Sort(names)
	if want := []string{"b64 key (PEM line 5)", "env key (PEM line 5)"}; !slices.Equal(names, want) {
		t.Fatalf("found %q, want %q", names, want)
	}
}

func TestFindingsNeverRepeatTheSecret(t *testing.T) {
	line := jsonLog("leak", "secret", webhookSecret, "token", instanceToken, "jit", jitConfig(t), "key", testKeyPEM())
	found := Scan(strings.NewReader(line), secrets(t))
	if len(found) == 0 {
		t.Fatal("nothing found")
	}
	for _, f := range found {
		for _, v := range []string{webhookSecret, instanceToken, clientID, rsaModulus, pemBodyLine(2)} {
			if strings.Contains(f.String(), v) || strings.Contains(f.Excerpt, v) {
				t.Fatalf("finding repeats a secret: %s", f)
			}
		}
		if len(f.Excerpt) > excerptLen+len("…") {
			t.Fatalf("excerpt of %d bytes", len(f.Excerpt))
		}
	}
	if !strings.Contains(found[0].Excerpt, `"msg":"leak"`) {
		t.Errorf("excerpt lost the message: %s", found[0].Excerpt)
	}
}

func TestScanLinesAndPositions(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than bufio.Scanner's default token
	text := "clean\r\n" + long + instanceToken + "\n\nsecond " + webhookSecret + " and " + webhookSecret + "\nlast " + instanceToken
	found := Scan(strings.NewReader(text), map[string]string{"webhook secret": webhookSecret})
	type pos struct {
		line, col int
		name      string
	}
	var got []pos
	for _, f := range found {
		got = append(got, pos{f.Line, f.Column, f.Secret})
	}
	want := []pos{
		{2, len(long) + 1, "installation token"},
		{4, len("second ") + 1, "webhook secret"},
		{4, len("second "+webhookSecret+" and ") + 1, "webhook secret"},
		{5, len("last ") + 1, "installation token"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
}

type failingReader struct{ data string }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, fmt.Errorf("disk gone")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestScanReadError(t *testing.T) {
	s := New(nil, DefaultPatterns)
	found, err := s.Scan(&failingReader{data: "a " + instanceToken + "\n"})
	if err == nil || len(found) != 1 {
		t.Fatalf("found %v, err %v; want the token and the error", found, err)
	}
	if f := Scan(&failingReader{data: "clean\n"}, nil); len(f) != 1 || !strings.Contains(f[0].Secret, "unreadable") {
		t.Fatalf("Scan hid a read error: %v", f)
	}
}

func TestMonitor(t *testing.T) {
	var passed bytes.Buffer
	m := New(map[string]string{"webhook secret": webhookSecret}, DefaultPatterns).Monitor(&passed)
	line := jsonLog("leak", "secret", webhookSecret) + "\n"
	// A secret split across writes, as os/exec's pipe copier may deliver it.
	for _, chunk := range []string{"clean line\nhalf " + line[:20], line[20:40], line[40:], "tail " + instanceToken} {
		if _, err := m.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Findings(); len(got) != 1 || got[0].Line != 2 || got[0].Secret != "webhook secret" {
		t.Fatalf("before flush: %v", got)
	}
	m.Flush()
	got := m.Findings()
	if len(got) != 2 || got[1].Line != 3 || got[1].Secret != "installation token" || m.Lines() != 3 {
		t.Fatalf("after flush: %v (%d lines)", got, m.Lines())
	}
	if !strings.HasPrefix(passed.String(), "clean line\nhalf ") || !strings.HasSuffix(passed.String(), instanceToken) {
		t.Fatalf("writes not passed on: %q", passed.String())
	}
}

func TestMonitorConcurrentWholeLines(t *testing.T) {
	m := New(map[string]string{"webhook secret": webhookSecret}, nil).Monitor(nil)
	log := slog.New(slog.NewJSONHandler(m, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if i == 3 && j == 25 {
					log.Info("leak", "s", webhookSecret)
				} else {
					log.Info("ok", "i", i, "j", j)
				}
			}
		})
	}
	wg.Wait()
	if f := m.Findings(); len(f) != 1 || m.Lines() != 400 {
		t.Fatalf("%d findings over %d lines, want 1 over 400", len(f), m.Lines())
	}
}
