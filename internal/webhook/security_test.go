package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/harness/logscan"
	"github.com/ghr-dev/ghr/internal/logging"
)

// attack is one hostile request: a body that would be accepted if it were genuinely signed,
// with the headers an attacker controls.
type attack struct {
	name   string
	body   []byte
	b64    bool
	sig    string // X-Hub-Signature-256; "" leaves it out
	extra  map[string]string
	status int
}

func hmacHex(newHash func() hash.Hash, key string, body []byte) string {
	m := hmac.New(newHash, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// TestHostileWebhooksEnqueueNothingAndLeakNothing sends forged, replayed-with-wrong-
// signature and oversized webhooks through the Lambda entry point with the production JSON
// logger at debug level: none may enqueue anything, every one is logged as rejected, and no
// log line or answer carries the webhook secret or a genuine signature.
func TestHostileWebhooksEnqueueNothingAndLeakNothing(t *testing.T) {
	queued := readPayload(t, "workflow_job_queued_user.json") // matches config k8s when signed
	completed := ourCompleted(t)                              // would reach clean-up, which terminates instances
	tampered := bytes.Replace(queued, []byte(`"k8s"`), []byte(`"K8S"`), 1)
	if bytes.Equal(tampered, queued) {
		t.Fatal("payload changed: the tampered body is the genuine one")
	}
	padded := append(bytes.Clone(queued), bytes.Repeat([]byte(" "), DefaultMaxBody)...) // valid JSON, over the limit
	genuine := map[string]string{"queued": sign(queued)[7:], "completed": sign(completed)[7:], "padded": sign(padded)[7:]}

	attacks := []attack{
		{name: "no signature", body: queued, status: 401},
		{name: "empty signature", body: queued, sig: "sha256=", status: 401},
		{name: "signed with another secret", body: queued, sig: "sha256=" + hmacHex(sha256.New, "guessed", queued), status: 401},
		{name: "sha1 signature only (downgrade)", body: queued, extra: map[string]string{"x-hub-signature": "sha1=" + hmacHex(sha1.New, testSecret, queued)}, status: 401},
		{name: "sha1 signature in the sha256 header", body: queued, sig: "sha1=" + hmacHex(sha1.New, testSecret, queued), status: 401},
		{name: "lifecycle event forged", body: completed, sig: "sha256=" + hmacHex(sha256.New, "guessed", completed), status: 401},
		{name: "replay: another delivery's signature", body: queued, sig: "sha256=" + genuine["completed"], status: 401},
		{name: "replay: genuine signature, tampered body", body: tampered, sig: "sha256=" + genuine["queued"], status: 401},
		{name: "replay: genuine signature truncated", body: queued, sig: "sha256=" + genuine["queued"][:63], status: 401},
		{name: "replay: genuine signature plus a byte", body: queued, sig: "sha256=" + genuine["queued"] + "00", status: 401},
		{name: "replay: prefix in upper case", body: queued, sig: "SHA256=" + genuine["queued"], status: 401},
		{name: "replay: duplicated header joined by API Gateway", body: queued, sig: "sha256=" + strings.Repeat("0", 64) + ",sha256=" + genuine["queued"], status: 401},
		{name: "replay: signature over the base64 text", body: queued, b64: true, sig: "sha256=" + hmacHex(sha256.New, testSecret, []byte(base64.StdEncoding.EncodeToString(queued))), status: 401},
		{name: "oversized, genuinely signed", body: padded, sig: "sha256=" + genuine["padded"], status: 413},
		{name: "oversized, genuinely signed, base64", body: padded, b64: true, sig: "sha256=" + genuine["padded"], status: 413},
		{name: "oversized, forged", body: padded, sig: "sha256=" + strings.Repeat("ab", 32), status: 413},
	}

	var logs bytes.Buffer
	s := &recordingSender{}
	in := newIntake(t, s, func(o *Options) { o.Logger = logging.New(&logs, slog.LevelDebug) })
	var answers []string
	for _, a := range attacks {
		resp := invokeLambda(t, in, a)
		answers = append(answers, resp.Body)
		if resp.StatusCode != a.status {
			t.Errorf("%s: status %d, want %d (%s)", a.name, resp.StatusCode, a.status, resp.Body)
		}
		if n := s.count(); n != 0 {
			t.Fatalf("%s: enqueued %d messages: %v", a.name, n, s.sent)
		}
	}

	// Every attack left one warning that says why, so the scan below read real log lines.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(attacks) {
		t.Fatalf("%d log lines for %d attacks:\n%s", len(lines), len(attacks), logs.String())
	}
	for i, l := range lines {
		var rec struct {
			Level    string `json:"level"`
			Status   int    `json:"status"`
			Decision string `json:"decision"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Level != "WARN" || rec.Status != attacks[i].status || rec.Decision == "" {
			t.Errorf("%s: log line %s (%v)", attacks[i].name, l, err)
		}
	}

	secrets := map[string]string{"webhook secret": testSecret}
	for name, sig := range genuine {
		secrets["genuine signature of "+name] = sig // a valid signature lets anyone replay its body
	}
	for _, f := range logscan.Scan(strings.NewReader(logs.String()+"\n"+strings.Join(answers, "\n")), secrets) {
		t.Errorf("secret in logs or answers: %s", f)
	}
}

// TestHostileWebhookControl proves the attacks above would have been enqueued had they been
// signed: the same bodies, genuinely signed, reach their queues.
func TestHostileWebhookControl(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s)
	for name, body := range map[string][]byte{"queued": readPayload(t, "workflow_job_queued_user.json"), "completed": ourCompleted(t)} {
		if resp := invokeLambda(t, in, attack{body: body, sig: sign(body)}); resp.StatusCode != 202 {
			t.Fatalf("%s: status %d: %s", name, resp.StatusCode, resp.Body)
		}
		b64 := attack{body: body, b64: true, sig: sign(body)}
		if resp := invokeLambda(t, in, b64); resp.StatusCode != 202 {
			t.Fatalf("%s base64: status %d: %s", name, resp.StatusCode, resp.Body)
		}
	}
	if len(s.sent["q-k8s"]) != 2 || len(s.sent["q-life"]) != 2 {
		t.Fatalf("sent %v, want two on q-k8s and two on q-life", s.sent)
	}
}

func invokeLambda(t *testing.T, in *Intake, a attack) events.APIGatewayV2HTTPResponse {
	t.Helper()
	h := map[string]string{"x-github-event": "workflow_job", "x-github-delivery": "deliv-attack", "content-type": "application/json"}
	if a.sig != "" {
		h["x-hub-signature-256"] = a.sig
	}
	for k, v := range a.extra {
		h[k] = v
	}
	body := string(a.body)
	if a.b64 {
		body = base64.StdEncoding.EncodeToString(a.body)
	}
	resp, err := in.HandleLambda(context.Background(), events.APIGatewayV2HTTPRequest{
		Headers: h, Body: body, IsBase64Encoded: a.b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-attack", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
	})
	if err != nil {
		t.Fatalf("HandleLambda returned an error: %v", err)
	}
	return resp
}
