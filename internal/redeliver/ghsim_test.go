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

	"github.com/ghr-dev/ghr/internal/ghsim"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// TestRedeliverAgainstSimulator: jobs whose webhook was answered 503 or lost get their
// delivery again, once, through GitHub's real delivery-log shapes (cursor paging, 202).
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
	r := &Redeliverer{Hooks: GitHub{App: app}, Memory: &memMemory{}, Lookback: time.Hour, MaxPerPass: 10,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := r.Run(ctx)
	if err != nil || res.Redelivered != 2 {
		t.Fatalf("first pass = %+v, %v; want 2 redelivered", res, err)
	}
	if err := gh.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	if got := received.Load(); got != 3 {
		t.Errorf("endpoint received %d deliveries, want 3 after recovery", got)
	}
	// With an empty memory too, GitHub's redelivery records stop a repeat.
	r.Memory = &memMemory{}
	if res, err = r.Run(ctx); err != nil || res.Selected != 0 || gh.Stats().Webhooks.Redelivered != 2 {
		t.Fatalf("second pass = %+v, %v; simulator saw %d redeliveries, want 2", res, err, gh.Stats().Webhooks.Redelivered)
	}
}
