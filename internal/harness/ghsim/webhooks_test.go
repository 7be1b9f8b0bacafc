package ghsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWebhookHeadersAndSignature(t *testing.T) {
	sink := newSink(t)
	srv := start(t, Options{AppID: 77, WebhookURL: sink.URL, WebhookSecret: "It's a Secret to Everybody"})
	w := seed(t, srv.Sim)
	job, err := srv.QueueJob(JobSpec{Repo: "alice/tools", Labels: []string{"self-hosted", "linux"}})
	if err != nil {
		t.Fatal(err)
	}
	flush(t, srv.Sim)
	got := sink.received()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	h, body := got[0].header, got[0].body
	mac := hmac.New(sha256.New, []byte("It's a Secret to Everybody"))
	mac.Write(body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); h.Get("X-Hub-Signature-256") != want {
		t.Fatalf("X-Hub-Signature-256 = %s, want %s", h.Get("X-Hub-Signature-256"), want)
	}
	for k, want := range map[string]string{
		"X-GitHub-Event": "workflow_job", "Content-Type": "application/json",
		"X-GitHub-Hook-Installation-Target-Type": "integration", "X-GitHub-Hook-Installation-Target-ID": "77",
	} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if !guidPattern.MatchString(h.Get("X-GitHub-Delivery")) {
		t.Errorf("X-GitHub-Delivery = %q, want a GUID", h.Get("X-GitHub-Delivery"))
	}
	var p struct {
		Action      string
		WorkflowJob struct {
			ID       int64
			Labels   []string
			Status   string
			RunnerID *int64 `json:"runner_id"`
		} `json:"workflow_job"`
		Repository struct {
			FullName string `json:"full_name"`
			Owner    struct{ Login, Type string }
		}
		Installation struct{ ID int64 }
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Action != "queued" || p.WorkflowJob.ID != job.ID || p.WorkflowJob.Status != "queued" || p.WorkflowJob.RunnerID != nil ||
		!slices.Equal(p.WorkflowJob.Labels, []string{"self-hosted", "linux"}) || p.Repository.FullName != "alice/tools" ||
		p.Repository.Owner.Type != TypeUser || p.Installation.ID != w.alice.ID {
		t.Fatalf("payload = %+v", p)
	}
	d := srv.Deliveries()[0]
	if d.GUID != h.Get("X-GitHub-Delivery") || d.Event != "workflow_job" || d.Action != "queued" || d.StatusCode != http.StatusAccepted ||
		d.Status != "OK" || d.Redelivery || d.InstallationID != w.alice.ID || d.JobID != job.ID || d.URL != sink.URL {
		t.Fatalf("delivery record = %+v", d)
	}
}

func TestWebhookFailures(t *testing.T) {
	closed := newSink(t)
	closed.Close() // connection refused
	tests := []struct {
		name       string
		url        func(*hookSink) string
		status     int
		wantStatus string
		wantCode   int
	}{
		{"non-2xx answer", func(k *hookSink) string { return k.URL }, http.StatusServiceUnavailable, "Invalid HTTP Response: 503", 503},
		{"unauthorized answer", func(k *hookSink) string { return k.URL }, http.StatusUnauthorized, "Invalid HTTP Response: 401", 401},
		{"connection refused", func(*hookSink) string { return closed.URL }, 0, "failed to connect to host", 0},
		{"no webhook URL", func(*hookSink) string { return "" }, 0, "failed to connect to host", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newSink(t)
			if tt.status != 0 {
				sink.setStatus(tt.status)
			}
			srv := start(t, Options{WebhookURL: tt.url(sink)})
			seed(t, srv.Sim)
			if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}}); err != nil {
				t.Fatal(err)
			}
			flush(t, srv.Sim)
			ds := srv.Deliveries()
			if len(ds) != 1 || ds[0].Status != tt.wantStatus || ds[0].StatusCode != tt.wantCode || ds[0].OK() {
				t.Fatalf("deliveries = %+v, want one %q (%d)", ds, tt.wantStatus, tt.wantCode)
			}
			if st := srv.Stats().Webhooks; st.Failed != 1 || st.Delivered != 0 || st.Emitted != 1 {
				t.Fatalf("webhook stats = %+v", st)
			}
		})
	}
}

func TestWebhookDropThenRedeliver(t *testing.T) {
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL, WebhookSecret: "s"})
	seed(t, srv.Sim)
	srv.DropNextDeliveries(1)
	lost, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	kept, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	flush(t, srv.Sim)
	if acts := sink.actions(t); len(acts) != 1 || acts[0] != "queued "+itoa(kept.ID) {
		t.Fatalf("received %v, want only job %d's queued", acts, kept.ID)
	}
	var dropped Delivery
	for _, d := range srv.Deliveries() {
		if d.Dropped {
			dropped = d
		}
	}
	if dropped.JobID != lost.ID || dropped.Status != "timed out" || dropped.StatusCode != 0 || dropped.Duration != webhookTimeout {
		t.Fatalf("dropped delivery = %+v", dropped)
	}
	// status=failure follows GitHub's documented 400-599 range: a delivery with no answer is
	// not in it.
	jwt := validJWT(t, srv)
	var failures []map[string]any
	call(t, srv, "GET", "/app/hook/deliveries?status=failure", jwt, nil).decode(t, &failures)
	if len(failures) != 0 {
		t.Fatalf("status=failure listed %v", failures)
	}
	a := call(t, srv, "POST", "/app/hook/deliveries/"+itoa(dropped.ID)+"/attempts", jwt, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", a.status, a.body)
	}
	flush(t, srv.Sim)
	rcv := sink.received()
	if len(rcv) != 2 || rcv[1].header.Get("X-GitHub-Delivery") != dropped.GUID {
		t.Fatalf("redelivery not received with the original GUID %s", dropped.GUID)
	}
	ds := srv.Deliveries()
	last := ds[len(ds)-1]
	if !last.Redelivery || last.GUID != dropped.GUID || !last.OK() || last.ID <= dropped.ID {
		t.Fatalf("redelivery record = %+v", last)
	}
	if st := srv.Stats().Webhooks; st.Emitted != 2 || st.Attempts != 3 || st.Dropped != 1 || st.Redelivered != 1 || st.Delivered != 2 {
		t.Fatalf("webhook stats = %+v", st)
	}
	if a := call(t, srv, "POST", "/app/hook/deliveries/12345/attempts", jwt, nil); a.status != http.StatusNotFound {
		t.Fatalf("redeliver unknown: %d", a.status)
	}
}

func TestWebhookDuplicateAndDelay(t *testing.T) {
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL, Seed: 3})
	seed(t, srv.Sim)
	srv.SetWebhookFaults(WebhookFaults{DuplicateRate: 1})
	j, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	flush(t, srv.Sim)
	rcv := sink.received()
	if len(rcv) != 2 || rcv[0].header.Get("X-GitHub-Delivery") != rcv[1].header.Get("X-GitHub-Delivery") {
		t.Fatalf("duplicate: %d received, want 2 with one GUID", len(rcv))
	}
	if ds := srv.Deliveries(); len(ds) != 2 || ds[0].ID == ds[1].ID || ds[1].Redelivery {
		t.Fatalf("duplicate records = %+v, want two records, neither a redelivery", ds)
	}

	// Delay the first event so the second overtakes it.
	srv.SetWebhookFaults(WebhookFaults{DelayRate: 1, MinDelay: 200 * time.Millisecond, MaxDelay: 300 * time.Millisecond})
	if err := srv.CancelJob(j.ID); err != nil {
		t.Fatal(err)
	}
	srv.SetWebhookFaults(WebhookFaults{})
	time.Sleep(10 * time.Millisecond) // let a worker pick the delayed event up first
	k, _ := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}})
	flush(t, srv.Sim)
	acts := sink.actions(t)[2:]
	want := []string{"queued " + itoa(k.ID), "completed " + itoa(j.ID)}
	if !slices.Equal(acts, want) {
		t.Fatalf("order = %v, want %v (the delayed event last)", acts, want)
	}
}

func TestDeliveriesAPI(t *testing.T) {
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL})
	seed(t, srv.Sim)
	for range 5 {
		if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, srv.Sim)
	jwt := validJWT(t, srv)
	var ids []int64
	next := "/app/hook/deliveries?per_page=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("cursor paging does not end")
		}
		a := call(t, srv, "GET", next, jwt, nil)
		var items []struct{ ID int64 }
		a.decode(t, &items)
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		next = ""
		if m := regexp.MustCompile(`^<http://[^/]+(/app/hook/deliveries\?[^>]+)>; rel="next"$`).FindStringSubmatch(a.header.Get("Link")); m != nil {
			next = m[1]
		} else if a.header.Get("Link") != "" {
			t.Fatalf("Link = %s", a.header.Get("Link"))
		}
	}
	all := srv.Deliveries()
	if len(ids) != 5 || ids[0] != all[4].ID || ids[4] != all[0].ID {
		t.Fatalf("paged ids %v, want all 5 newest first", ids)
	}
	var full struct {
		ID      int64
		URL     string
		Request struct {
			Headers map[string]string
			Payload struct{ Action string }
		}
		Response struct {
			Headers map[string]string
			Payload string
		}
	}
	call(t, srv, "GET", "/app/hook/deliveries/"+strconv.FormatInt(ids[0], 10), jwt, nil).decode(t, &full)
	if full.Request.Payload.Action != "queued" || full.Request.Headers["X-GitHub-Event"] != "workflow_job" ||
		full.Response.Payload != `{"ok":true}` || full.URL != sink.URL {
		t.Fatalf("delivery = %+v", full)
	}
	if a := call(t, srv, "GET", "/app/hook/deliveries/1", jwt, nil); a.status != http.StatusNotFound {
		t.Fatalf("unknown delivery: %d", a.status)
	}
	var ok []map[string]any
	call(t, srv, "GET", "/app/hook/deliveries?status=success", jwt, nil).decode(t, &ok)
	if len(ok) != 5 {
		t.Fatalf("status=success: %d, want 5", len(ok))
	}
}
