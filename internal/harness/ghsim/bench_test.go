package ghsim

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkListRunnersPage is one page of 100 from an org with 1,000 runners, over HTTP:
// the simulator must not be what slows an E2E scale-down pass.
func BenchmarkListRunnersPage(b *testing.B) {
	srv := start(b, Options{SecondaryPoints: -1, RateLimit: 1 << 30})
	w := seed(b, srv.Sim)
	tok, _ := srv.NewRegistrationToken("octo")
	for i := range 1000 {
		if _, err := srv.ConnectRegistration(tok, fmt.Sprintf("r-%04d", i), nil, false); err != nil {
			b.Fatal(err)
		}
	}
	it := installationToken(b, srv, w.octo.ID)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if a := call(b, srv, "GET", fmt.Sprintf("/orgs/octo/actions/runners?per_page=100&page=%d", i%10+1), it, nil); a.status != http.StatusOK {
			b.Fatal(a.status)
		}
	}
}

// BenchmarkJobLifecycle is one job through queued → in_progress → completed on an ephemeral
// runner, with its three signed webhooks delivered over HTTP.
func BenchmarkJobLifecycle(b *testing.B) {
	sink := newSink(b)
	srv := start(b, Options{WebhookURL: sink.URL, WebhookSecret: "s"})
	seed(b, srv.Sim)
	tok, _ := srv.NewRegistrationToken("octo")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted"}}); err != nil {
			b.Fatal(err)
		}
		conn, err := srv.ConnectRegistration(tok, fmt.Sprintf("e-%d", i), nil, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.NextJob(ctx); err != nil {
			b.Fatal(err)
		}
		if err := conn.Complete(ConclusionSuccess); err != nil {
			b.Fatal(err)
		}
	}
	if err := srv.WaitDeliveries(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := srv.Stats().Webhooks; st.Delivered != st.Emitted {
		b.Fatalf("delivered %d of %d", st.Delivered, st.Emitted)
	}
}
