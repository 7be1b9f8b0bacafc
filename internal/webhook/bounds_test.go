package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/queue"
)

// testRunnerPrefix is the runner name prefix of the test deployment.
const testRunnerPrefix = "ghr-"

// ourCompleted is GitHub's completed payload for a job that ran on one of our runners.
func ourCompleted(t testing.TB) []byte {
	t.Helper()
	b := bytes.Replace(readPayload(t, "workflow_job_completed.json"), []byte(`"GitHub Actions 5"`), []byte(`"ghr-i-0123456789abcdef0"`), 1)
	if !bytes.Contains(b, []byte("ghr-i-0123456789abcdef0")) {
		t.Fatal("payload changed: no runner name to replace")
	}
	return b
}

// setJSON rewrites one top-level-or-nested field of a JSON payload (path of object keys).
func setJSON(t testing.TB, body []byte, value any, path ...string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = value
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Echo bound: a signed payload with a 500 KB label, owner and action never comes back whole,
// in the answer or in the log line; a payload with a wrong type names the field, not Go's
// types. Today's main echoed all of it.
func TestAnswersAndLogsBoundEveryEcho(t *testing.T) {
	huge := strings.Repeat("x", 500<<10)
	queued := readPayload(t, "workflow_job_queued_user.json")
	cases := map[string][]byte{
		"huge label":        setJSON(t, queued, []string{"self-hosted", huge}, "workflow_job", "labels"),
		"many labels":       setJSON(t, queued, strings.Split(strings.Repeat("l,", 5000), ","), "workflow_job", "labels"),
		"huge repository":   setJSON(t, setJSON(t, queued, huge+"/r", "repository", "full_name"), huge, "repository", "owner", "login"),
		"huge action":       setJSON(t, queued, huge, "action"),
		"wrong type":        setJSON(t, queued, "12", "workflow_job", "id"),
		"wrong type, huge":  setJSON(t, queued, huge, "workflow_job", "labels"),
		"not an object":     []byte(`"` + huge + `"`),
		"broken JSON":       append([]byte(`{"action":"queued",`), huge...),
		"huge event header": queued,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &recordingSender{}
			in := newIntake(t, s, func(o *Options) {
				o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
				o.MaxBodyBytes = 8 << 20
			})
			req := request("workflow_job", body)
			if name == "huge event header" {
				req.Headers["x-github-event"] = huge
				req.Headers["x-github-delivery"] = huge
			}
			resp := in.Handle(context.Background(), req)
			if len(resp.Body) > 512 {
				t.Errorf("answer is %d bytes: %.200s", len(resp.Body), resp.Body)
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if len(line) > 2048 {
					t.Errorf("log line is %d bytes: %.200s", len(line), line)
				}
			}
			for _, goType := range []string{"Go struct", "Go value", "workflowJobEvent", "int64", "[]string", "json: "} {
				if strings.Contains(string(resp.Body), goType) {
					t.Errorf("answer names Go internals (%s): %s", goType, resp.Body)
				}
			}
		})
	}
}

// Allow-list vs owner: an entry admits "octo/app"; a payload whose full_name says octo/app
// but whose owner is another account would register an org runner in that account.
func TestAllowlistCoversTheRunnersOwner(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s, func(o *Options) { o.Allowlist = []string{"Lineville/*"} })
	queued := readPayload(t, "workflow_job_queued_user.json") // Lineville's repository, config k8s (org level)
	forged := setJSON(t, queued, "victim-org", "repository", "owner", "login")
	forged = setJSON(t, forged, "Organization", "repository", "owner", "type")
	resp := in.Handle(context.Background(), request("workflow_job", forged))
	if resp.Status != http.StatusAccepted || s.count() != 0 || !strings.Contains(string(resp.Body), "runner owner victim-org is not in the allow-list") {
		t.Fatalf("owner unlike full_name: %d %s, %d enqueued; want 202 not accepted and nothing", resp.Status, resp.Body, s.count())
	}
	if resp := in.Handle(context.Background(), request("workflow_job", queued)); resp.Status != http.StatusAccepted || s.count() != 1 {
		t.Fatalf("genuine payload: %d %s", resp.Status, resp.Body)
	}
}

// Lifecycle messages travel only for in_progress and completed jobs of this deployment's
// runners: not for GitHub-hosted runners, not for a name that only starts like ours.
func TestLifecycleOnlyForOurRunners(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s)
	completed := readPayload(t, "workflow_job_completed.json")
	for name, runner := range map[string]string{
		"GitHub-hosted": "GitHub Actions 5", "other prefix": "ci-i-0123456789abcdef0",
		"overlapping prefix": "ghr-i-i-0123456789abcdef0", "not an instance id": "ghr-i-zzz",
	} {
		in.Handle(context.Background(), request("workflow_job", setJSON(t, completed, runner, "workflow_job", "runner_name")))
		if s.count() != 0 {
			t.Fatalf("%s runner %q: lifecycle message sent", name, runner)
		}
	}
	in.Handle(context.Background(), request("workflow_job", readPayload(t, "workflow_job_in_progress.json")))
	if s.count() != 0 {
		t.Fatal("a GitHub-hosted runner's in_progress sent to the lifecycle queue")
	}
	in.Handle(context.Background(), request("workflow_job", ourCompleted(t)))
	if len(s.sent["q-life"]) != 1 {
		t.Fatalf("our completed job: %d lifecycle messages, want 1", len(s.sent["q-life"]))
	}
	// Our runner took a job: clean-up records which (the launch's re-check reads it).
	started := setJSON(t, readPayload(t, "workflow_job_in_progress.json"), "ghr-i-0123456789abcdef0", "workflow_job", "runner_name")
	in.Handle(context.Background(), request("workflow_job", started))
	if len(s.sent["q-life"]) != 2 {
		t.Fatalf("our started job: %d lifecycle messages, want 2", len(s.sent["q-life"]))
	}
	l, err := queue.DecodeLifecycle(s.sent["q-life"][1])
	if err != nil || l.Action != queue.ActionInProgress || l.RunnerName != "ghr-i-0123456789abcdef0" {
		t.Fatalf("our started job's message: %+v, %v", l, err)
	}
}

// GitHub's form content type is accepted fully: ping and workflow_job alike, signed over the
// form body. Today's main answered ping 200 and every form workflow_job 400. A content type
// GitHub never sends is refused for every event, ping included.
func TestFormContentTypeAcceptedLikeJSON(t *testing.T) {
	form := func(event string, js []byte) Request {
		body := []byte("payload=" + url.QueryEscape(string(js)))
		r := request(event, body)
		r.Headers["content-type"] = "application/x-www-form-urlencoded"
		return r
	}
	for _, tc := range []struct {
		event, file string
		status      int
		queue       string
	}{
		{"ping", "ping.json", 200, ""},
		{"workflow_job", "workflow_job_queued_user.json", 202, "q-k8s"},
	} {
		s := &recordingSender{}
		in := newIntake(t, s)
		resp := in.Handle(context.Background(), form(tc.event, readPayload(t, tc.file)))
		if resp.Status != tc.status || len(s.sent[tc.queue]) != map[bool]int{true: 1, false: 0}[tc.queue != ""] {
			t.Errorf("form %s: %d %s, sent %v", tc.event, resp.Status, resp.Body, s.sent)
		}
		r := request(tc.event, readPayload(t, tc.file))
		r.Headers["content-type"] = "text/plain"
		if resp := in.Handle(context.Background(), r); resp.Status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain %s: %d %s, want 415", tc.event, resp.Status, resp.Body)
		}
	}
	// A form without the payload field is a clear 400, ping or not.
	for _, event := range []string{"ping", "workflow_job"} {
		r := request(event, []byte("other=1"))
		r.Headers["content-type"] = "application/x-www-form-urlencoded"
		if resp := newIntake(t, &recordingSender{}).Handle(context.Background(), r); resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "payload") {
			t.Errorf("form %s without payload: %d %s", event, resp.Status, resp.Body)
		}
	}
}
