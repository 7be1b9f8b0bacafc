package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ghr-dev/ghr/internal/queue"
)

// FuzzIntake feeds arbitrary bodies, events and signature choices through intake. Invariants:
// it never panics; it answers only the documented codes; nothing is enqueued without a valid
// signature; every enqueued message decodes with the consumer's own decoder.
func FuzzIntake(f *testing.F) {
	for _, name := range []string{"workflow_job_queued.json", "workflow_job_queued_user.json", "workflow_job_completed.json", "ping.json"} {
		f.Add("workflow_job", readPayload(f, name), true, false)
	}
	f.Add("workflow_job", []byte(`{"action":"queued","workflow_job":{"id":1,"labels":["self-hosted","k8s"]},"repository":{"full_name":"a/b","owner":{"login":"a","type":"Organization"}}}`), true, false)
	f.Add("ping", []byte(`{}`), false, false)
	f.Add("workflow_job", []byte(`eyJhY3Rpb24iOiJxdWV1ZWQifQ==`), true, true)
	allowed := map[int]bool{200: true, 202: true, 400: true, 401: true, 405: true, 413: true, 503: true}
	f.Fuzz(func(t *testing.T, event string, body []byte, signed, b64 bool) {
		s := &recordingSender{}
		in := newIntake(t, s, func(o *Options) { o.MaxBodyBytes = 64 << 10 })
		req := request(event, body)
		req.IsBase64Encoded = b64
		if !signed {
			req.Headers["x-hub-signature-256"] = "sha256=" + sign([]byte("other"))[7:]
		}
		resp := in.Handle(context.Background(), req)
		if !allowed[resp.Status] {
			t.Fatalf("status %d not in the documented set; body %s", resp.Status, resp.Body)
		}
		if !json.Valid(resp.Body) {
			t.Fatalf("answer is not JSON: %q", resp.Body)
		}
		if !signed && (resp.Status != http.StatusUnauthorized && resp.Status != http.StatusRequestEntityTooLarge && resp.Status != http.StatusBadRequest || s.count() > 0) {
			t.Fatalf("unsigned request answered %d and enqueued %d", resp.Status, s.count())
		}
		for url, msgs := range s.sent {
			for _, m := range msgs {
				var err error
				if url == "q-life" {
					_, err = queue.DecodeLifecycle(m)
				} else {
					_, err = queue.DecodeJob(m)
				}
				if err != nil {
					t.Fatalf("enqueued message on %s does not decode: %v\n%s", url, err, m)
				}
			}
		}
	})
}
