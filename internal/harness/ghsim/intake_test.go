package ghsim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/webhook"
)

// memSender is an in-memory queue for ghr's intake.
type memSender struct {
	mu   sync.Mutex
	sent map[string][][]byte
}

func (m *memSender) Send(_ context.Context, url string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent[url] = append(m.sent[url], body)
	return nil
}

// TestWebhooksThroughGhrIntake sends the simulator's webhooks to ghr's real intake: the
// signature verifies, the payload parses, and the messages carry the simulator's facts.
func TestWebhooksThroughGhrIntake(t *testing.T) {
	cfgs, err := config.ParseRunnerConfigs([]byte(`[{"key":"linux","labels":["self-hosted","linux"],"queue_url":"build","launch_template":"lt","instance_types":["m7i.large"],"subnet_ids":["s"],"max_runners":5}]`))
	if err != nil {
		t.Fatal(err)
	}
	sender := &memSender{sent: map[string][][]byte{}}
	in, err := webhook.New(webhook.Options{Secret: []byte("topsecret"), RunnerConfigs: cfgs, LifecycleQueueURL: "lifecycle", RunnerNamePrefix: "ghr-", Sender: sender})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := map[string]string{}
		for k := range r.Header {
			h[k] = r.Header.Get(k)
		}
		resp := in.Handle(r.Context(), webhook.Request{Method: r.Method, Headers: h, Body: string(body)})
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	}))
	t.Cleanup(front.Close)

	srv := start(t, Options{WebhookURL: front.URL, WebhookSecret: "topsecret"})
	w := seed(t, srv.Sim)
	job, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "Linux"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := srv.NewRegistrationToken("octo")
	conn, _ := srv.ConnectRegistration(tok, "ghr-i-0123abcd", nil, true)
	if _, err := conn.NextJob(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := conn.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	flush(t, srv.Sim)
	for _, d := range srv.Deliveries() {
		if !d.OK() {
			t.Fatalf("intake answered %d (%s) to %s", d.StatusCode, d.Status, d.Action)
		}
	}
	// in_progress travels too (clean-up records which job our runner took, for the re-check)
	// and completed for clean-up; queued goes to the build queue.
	if len(sender.sent["build"]) != 1 || len(sender.sent["lifecycle"]) != 2 {
		t.Fatalf("enqueued build %d, lifecycle %d; want 1 and 2", len(sender.sent["build"]), len(sender.sent["lifecycle"]))
	}
	var queuedGUID string
	for _, d := range srv.Deliveries() {
		if d.Action == StatusQueued {
			queuedGUID = d.GUID
		}
	}
	m, err := queue.DecodeJob(sender.sent["build"][0])
	if err != nil {
		t.Fatal(err)
	}
	if m.JobID != job.ID || m.RunID != job.RunID || m.Repo != "octo/app" || m.OwnerType != TypeOrganization ||
		m.InstallationID != w.octo.ID || m.RunnerConfig != "linux" || m.DeliveryID != queuedGUID {
		t.Fatalf("build message = %+v", m)
	}
	for _, b := range sender.sent["lifecycle"] {
		l, err := queue.DecodeLifecycle(b)
		if err != nil {
			t.Fatal(err)
		}
		if l.JobID != job.ID || l.RunnerName != "ghr-i-0123abcd" || l.RunnerID != conn.ID() {
			t.Fatalf("lifecycle message = %+v", l)
		}
	}
}
