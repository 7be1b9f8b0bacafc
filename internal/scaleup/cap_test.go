package scaleup_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

// Two pollers that counted the same free slots used to launch 4 runners for a cap of 2.
// Each launch now re-counts before registering and gives back what lies beyond the cap.
func TestMaxRunnersHoldsUnderConcurrentPollers(t *testing.T) {
	for round := range 5 {
		w := newWorld(t, 0, config.CheckQueuedAuto)
		w.ec2.Latency = 20 * time.Millisecond // both pollers count before either launches
		q := &fakeQueue{}
		w.h.Requeue = q
		second := *w.h
		l := w.h.Launcher
		second.Launcher = &scaleup.Launcher{Compute: l.Compute, Tokens: l.Tokens, GitHub: l.GitHub, RunnerNamePrefix: l.RunnerNamePrefix, Logger: l.Logger}
		batches := []events.SQSEvent{
			sqsEvent(t, recent(int64(10*round+1), "capped"), recent(int64(10*round+2), "capped")),
			sqsEvent(t, recent(int64(10*round+3), "capped"), recent(int64(10*round+4), "capped")),
		}
		var wg sync.WaitGroup
		retried := make([][]string, 2)
		for i, h := range []*scaleup.Handler{w.h, &second} {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				resp, err := h.Handle(ctx, batches[i])
				if err != nil {
					t.Error(err)
				}
				for _, f := range resp.BatchItemFailures {
					retried[i] = append(retried[i], f.ItemIdentifier)
				}
			})
		}
		wg.Wait()
		if n := len(w.live()); n > 2 {
			t.Fatalf("round %d: %d live runners for max_runners 2", round, n)
		}
		if n := len(w.live()); n+len(q.sent) != 4 || len(retried[0])+len(retried[1]) != 0 {
			t.Fatalf("round %d: %d live, %d requeued, retried %v: every job must be served or requeued", round, n, len(q.sent), retried)
		}
		if n := len(w.gh.JITConfigs()); n != len(w.live()) {
			t.Fatalf("round %d: %d JIT configs for %d runners: excess hosts are given back before registration", round, n, len(w.live()))
		}
	}
}

func TestExcess(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	r := func(id string, sec int, registered bool) scaleup.Runner {
		return scaleup.Runner{ID: id, LaunchTime: t0.Add(time.Duration(sec) * time.Second), Registered: registered}
	}
	for _, tc := range []struct {
		name string
		live []scaleup.Runner
		mine []string
		max  int
		want []string
	}{
		{"unlimited", []scaleup.Runner{r("a", 0, false), r("b", 0, false)}, []string{"a", "b"}, -1, nil},
		{"within the cap", []scaleup.Runner{r("x", 0, true), r("a", 1, false)}, []string{"a"}, 2, nil},
		{"registered hosts come first", []scaleup.Runner{r("a", 0, false), r("x", 5, true), r("y", 6, true)}, []string{"a"}, 2, []string{"a"}},
		{"later launch gives back", []scaleup.Runner{r("a", 0, false), r("b", 0, false), r("c", 1, false), r("d", 1, false)}, []string{"c", "d"}, 2, []string{"c", "d"}},
		{"earlier launch keeps", []scaleup.Runner{r("a", 0, false), r("b", 0, false), r("c", 1, false), r("d", 1, false)}, []string{"a", "b"}, 2, nil},
		{"same second: others' hosts first", []scaleup.Runner{r("b", 0, false), r("d", 0, false), r("a", 0, false), r("c", 0, false)}, []string{"a", "b"}, 2, []string{"a", "b"}},
		{"same second, mine only: ids decide", []scaleup.Runner{r("b", 0, false), r("a", 0, false), r("c", 0, false)}, []string{"a", "b", "c"}, 2, []string{"c"}},
		{"not listed yet ranks last", []scaleup.Runner{r("x", 9, false), r("y", 9, false)}, []string{"a"}, 2, []string{"a"}},
		{"cap of zero", nil, []string{"a"}, 0, []string{"a"}},
	} {
		got := scaleup.Excess(tc.live, tc.mine, tc.max)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Excess = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// EC2's launch times have whole seconds. A launch whose re-count ran before another's hosts
// existed keeps its own; the other's later re-count must then give its hosts back even when
// both launched in the same second and its ids sort first (tie by id kept both: 2 of 1).
func TestExcessSameSecondLaunchMissedByTheFirstRecount(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	first := scaleup.Runner{ID: "i-0bbb", LaunchTime: t0} // as DescribeInstances reports both
	second := scaleup.Runner{ID: "i-0aaa", LaunchTime: t0}
	kept := 0
	if len(scaleup.Excess([]scaleup.Runner{first}, []string{first.ID}, 1)) == 0 {
		kept++ // the first re-count listed only its own host
	}
	if len(scaleup.Excess([]scaleup.Runner{second, first}, []string{second.ID}, 1)) == 0 {
		kept++
	}
	if kept > 1 {
		t.Fatalf("%d hosts kept for max_runners 1", kept)
	}
}
