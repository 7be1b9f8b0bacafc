package redeliver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// TestRedeliverAgainstSimulator: jobs whose webhook was answered 503 or lost get their
// delivery again through GitHub's real delivery-log shapes (cursor paging, 202), even when
// the first redelivery is lost too.
func TestRedeliverAgainstSimulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var down atomic.Bool
	var received atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "deploying", http.StatusServiceUnavailable)
			return
		}
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hook.Close)
	gh, err := ghsim.Start(ctx, ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t), WebhookURL: hook.URL, WebhookSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gh.Close() })
	for _, step := range []func() error{
		func() error { _, err := gh.AddOrg("octo"); return err },
		func() error { _, err := gh.AddRepo("octo", "app"); return err },
		func() error { _, err := gh.Install("octo"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	queue := func() {
		t.Helper()
		if _, err := gh.QueueJob(ghsim.JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "linux"}}); err != nil {
			t.Fatal(err)
		}
		if err := gh.WaitDeliveries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	down.Store(true)
	queue() // answered 503
	down.Store(false)
	gh.DropNextDeliveries(1)
	queue() // lost: no answer
	queue() // delivered
	if got := received.Load(); got != 1 {
		t.Fatalf("endpoint received %d deliveries before recovery, want 1", got)
	}

	app, err := githubapp.New(githubapp.Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), APIURL: gh.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	r := &Redeliverer{Hooks: GitHub{App: app}, Memory: &memMemory{}, Lookback: time.Hour, MaxPerPass: 10,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return at }}
	run := func(name string) Result {
		t.Helper()
		res, err := r.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := gh.WaitDeliveries(ctx); err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The first redeliveries are lost as well.
	gh.SetWebhookFaults(ghsim.WebhookFaults{DropRate: 1})
	if res := run("first pass"); res.Redelivered != 2 {
		t.Fatalf("first pass = %+v; want 2 redelivered", res)
	}
	gh.SetWebhookFaults(ghsim.WebhookFaults{})
	if got, dropped := received.Load(), gh.Stats().Webhooks.Dropped; got != 1 || dropped != 3 {
		t.Fatalf("endpoint received %d deliveries, %d dropped; want 1 and 3", got, dropped)
	}
	if res := run("pass within the backoff"); res.Selected != 0 {
		t.Fatalf("pass within the backoff = %+v; want nothing selected", res)
	}
	at = at.Add(retryBackoff + time.Second)
	if res := run("pass after the backoff"); res.Redelivered != 2 || res.Retries != 2 {
		t.Fatalf("pass after the backoff = %+v; want 2 retried", res)
	}
	if got := received.Load(); got != 3 {
		t.Errorf("endpoint received %d deliveries, want 3 after recovery", got)
	}
	// With an empty memory too, GitHub's record of the successes stops a repeat.
	r.Memory = &memMemory{}
	at = at.Add(10 * time.Minute)
	if res := run("last pass"); res.Selected != 0 || gh.Stats().Webhooks.Redelivered != 4 {
		t.Fatalf("last pass = %+v; simulator saw %d redeliveries, want 4", res, gh.Stats().Webhooks.Redelivered)
	}
}
