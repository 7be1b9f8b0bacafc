package interruption

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

var t0 = time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)

const (
	inst  = "i-0123456789abcdef0"
	other = "i-0fedcba9876543210"
)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestBreakerOpenUntil(t *testing.T) {
	rec := func(cfg string, min int) Record {
		return Record{InstanceID: cfg + string(rune('a'+min)), Config: cfg, At: at(min)}
	}
	cases := []struct {
		name string
		b    Breaker
		recs []Record
		now  time.Time
		want time.Time
	}{
		{"one interruption stays closed", DefaultBreaker, []Record{rec("c", 0)}, at(1), time.Time{}},
		{"two within 15 min open for 30", DefaultBreaker, []Record{rec("c", 0), rec("c", 10)}, at(11), at(40)},
		{"still open just before the end", DefaultBreaker, []Record{rec("c", 0), rec("c", 10)}, at(39), at(40)},
		{"closed after the cool-down", DefaultBreaker, []Record{rec("c", 0), rec("c", 10)}, at(40), time.Time{}},
		{"two 16 min apart stay closed", DefaultBreaker, []Record{rec("c", 0), rec("c", 16)}, at(17), time.Time{}},
		{"another config's interruptions do not count", DefaultBreaker, []Record{rec("c", 0), rec("d", 1)}, at(2), time.Time{}},
		{"the latest trip sets the end", DefaultBreaker, []Record{rec("c", 0), rec("c", 5), rec("c", 12)}, at(13), at(42)},
		{"threshold 3", Breaker{3, 15 * time.Minute, 30 * time.Minute}, []Record{rec("c", 0), rec("c", 5)}, at(6), time.Time{}},
		{"disabled", Breaker{}, []Record{rec("c", 0), rec("c", 1)}, at(2), time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.b.OpenUntil(c.recs, "c", c.now); !got.Equal(c.want) {
				t.Fatalf("OpenUntil = %v, want %v", got, c.want)
			}
		})
	}
}

func bridge(detailType, source string, detail any) events.EventBridgeEvent {
	b, _ := json.Marshal(detail)
	return events.EventBridgeEvent{DetailType: detailType, Source: source, Detail: b, Time: t0}
}

func warning(id string) events.EventBridgeEvent {
	return bridge(DetailWarning, SourceEC2, map[string]string{"instance-id": id, "instance-action": "terminate"})
}

func stopped(id, state string) events.EventBridgeEvent {
	return bridge(DetailStateChange, SourceEC2, map[string]string{"instance-id": id, "state": state})
}

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name    string
		ev      events.EventBridgeEvent
		kind    Kind
		ignored bool
		bad     bool
	}{
		{"spot warning", warning(inst), Warning, false, false},
		{"shutting down", stopped(inst, "shutting-down"), Stopped, false, false},
		{"terminated", stopped(inst, "terminated"), Stopped, false, false},
		{"running is not a stop", stopped(inst, "running"), 0, true, false},
		{"another source", bridge(DetailWarning, "aws.events", map[string]string{"instance-id": inst}), 0, true, false},
		{"scheduled event", bridge("Scheduled Event", SourceEC2, map[string]string{"instance-id": inst}), 0, true, false},
		{"not an instance id", warning("i-../../x"), 0, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := ParseEvent(c.ev)
			if got := errors.Is(err, ErrIgnored); got != c.ignored {
				t.Fatalf("ignored = %v (%v), want %v", got, err, c.ignored)
			}
			if c.bad != (err != nil && !c.ignored) {
				t.Fatalf("err = %v, want bad %v", err, c.bad)
			}
			if err == nil && (ev.Kind != c.kind || ev.InstanceID != inst) {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func ours() scaledown.Instance {
	return scaledown.Instance{ID: inst, RunnerConfig: "small", Owner: scaledown.Owner{Level: tags.TypeOrg, Name: "octo"}, RunnerID: 42}
}

func TestDecide(t *testing.T) {
	rec := Record{InstanceID: inst, RunnerID: 42}
	unregistered := ours()
	unregistered.RunnerID = 0
	cases := []struct {
		name     string
		ev       Event
		in       scaledown.Instance
		ours     bool
		recorded bool
		want     Plan
	}{
		{"warning records and deregisters", Event{Kind: Warning}, ours(), true, false, Plan{Record: true, Deregister: true, Reason: decisionRecord}},
		{"warning before registration records only", Event{Kind: Warning}, unregistered, true, false, Plan{Record: true, Reason: decisionRecord}},
		{"repeated warning does not record again", Event{Kind: Warning}, ours(), true, true, Plan{Deregister: true, Reason: decisionDuplicate}},
		{"another deployment's instance", Event{Kind: Warning}, ours(), false, false, Plan{Reason: decisionNotOurs}},
		{"stop after warning deregisters", Event{Kind: Stopped}, ours(), true, true, Plan{Deregister: true, Reason: decisionDeregister}},
		{"stop without warning does nothing", Event{Kind: Stopped}, ours(), true, false, Plan{Reason: decisionNotSpot}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.ev, c.in, c.ours, rec, c.recorded); got != c.want {
				t.Fatalf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestHandlerWarningThenStop(t *testing.T) {
	ctx := context.Background()
	st := newStore(Record{InstanceID: other, Config: "small", At: at(-60)}) // expired
	fl := &fleet{instances: map[string]scaledown.Instance{inst: ours()}}
	gh := &ghfake{runners: map[int64]bool{42: true}}
	h := &Handler{Fleet: fl, GitHub: gh, Store: st, Breaker: DefaultBreaker, Log: quiet(), Now: func() time.Time { return t0 }}

	if err := h.Handle(ctx, warning(inst)); err != nil {
		t.Fatal(err)
	}
	rec, ok, _ := st.Get(ctx, inst)
	if !ok || rec.RunnerID != 42 || rec.Config != "small" || rec.Owner != "octo" || !rec.At.Equal(t0) {
		t.Fatalf("record = %+v, %v", rec, ok)
	}
	if _, ok, _ := st.Get(ctx, other); ok {
		t.Fatal("expired record not pruned")
	}
	if len(gh.removed) != 0 {
		t.Fatal("busy runner removed")
	}
	gh.runners[42] = false // the reclaim: the runner went offline
	if err := h.Handle(ctx, stopped(inst, "shutting-down")); err != nil {
		t.Fatal(err)
	}
	if len(gh.removed) != 1 || gh.removed[0] != 42 {
		t.Fatalf("removed = %v", gh.removed)
	}
	// A stop of anything else costs no EC2 call: most of the account's state changes.
	calls := fl.calls
	if err := h.Handle(ctx, stopped(other, "terminated")); err != nil || fl.calls != calls {
		t.Fatalf("err %v, EC2 calls %d → %d", err, calls, fl.calls)
	}
}

func TestHandlerRetriesOnFailure(t *testing.T) {
	st := newStore()
	h := &Handler{Fleet: &fleet{instances: map[string]scaledown.Instance{inst: ours()}}, GitHub: &ghfake{down: true},
		Store: st, Breaker: DefaultBreaker, Log: quiet()}
	if err := h.Handle(context.Background(), warning(inst)); err == nil {
		t.Fatal("GitHub down: want an error so Lambda retries")
	}
	st.fail = errors.New("throttled")
	if err := h.Handle(context.Background(), warning(inst)); err == nil {
		t.Fatal("SSM down: want an error")
	}
	if err := h.Handle(context.Background(), warning("not-an-id")); err != nil {
		t.Fatalf("a malformed event is dropped, not retried: %v", err)
	}
}

func failed(jobID, runnerID int64) queue.Lifecycle {
	return queue.Lifecycle{Action: queue.ActionCompleted, JobID: jobID, RunID: 7, Repo: "octo/app", Owner: "octo",
		RunnerID: runnerID, Conclusion: ConclusionFailure}
}

func TestShouldRerun(t *testing.T) {
	rec := Record{InstanceID: inst, OwnerLevel: tags.TypeOrg, Owner: "octo", RunnerID: 42}
	done := rec
	done.Rerun = &Rerun{JobID: 100}
	repoRec := rec
	repoRec.OwnerLevel, repoRec.Owner = tags.TypeRepo, "octo/other"
	success := failed(100, 42)
	success.Conclusion = "success"
	cases := []struct {
		name     string
		rec      Record
		recorded bool
		ev       queue.Lifecycle
		want     bool
		reason   string
	}{
		{"interrupted job re-run", rec, true, failed(100, 42), true, rerunYes},
		{"success is not re-run", rec, true, success, false, rerunNotFailed},
		{"failure without interruption", Record{}, false, failed(100, 42), false, rerunNoRecord},
		{"another runner's job", rec, true, failed(100, 43), false, rerunNotProven},
		{"another owner's repository", repoRec, true, failed(100, 42), false, rerunNotProven},
		{"a second job for the same record", done, true, failed(101, 42), false, rerunDone},
		{"the same job again after a failed call", done, true, failed(100, 42), true, rerunYes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, reason := ShouldRerun(c.rec, c.recorded, c.ev)
			if got != c.want || reason != c.reason {
				t.Fatalf("ShouldRerun = %v %s, want %v %s", got, reason, c.want, c.reason)
			}
		})
	}
}

func TestRerunnerOnceThenOnDemand(t *testing.T) {
	ctx := context.Background()
	st := newStore(Record{InstanceID: inst, Config: "small", OwnerLevel: tags.TypeOrg, Owner: "octo", RunnerID: 42, At: t0})
	gh := &ghfake{down: true}
	r := &Rerunner{Store: st, GitHub: gh, Log: quiet(), Now: func() time.Time { return at(1) }}
	if err := r.JobFailed(ctx, failed(100, 42), inst); err == nil {
		t.Fatal("GitHub down: want an error so the event is delivered again")
	}
	gh.down = false
	if err := r.JobFailed(ctx, failed(100, 42), inst); err != nil {
		t.Fatal(err)
	}
	if err := r.JobFailed(ctx, failed(100, 42), inst); err != nil { // a duplicate event
		t.Fatal(err)
	}
	if err := r.JobFailed(ctx, failed(200, 42), inst); err != nil {
		t.Fatal(err)
	}
	if len(gh.reruns) != 2 || gh.reruns[0] != 100 || gh.reruns[1] != 100 {
		t.Fatalf("reruns = %v: want job 100 only (GitHub refuses the duplicate itself)", gh.reruns)
	}
	recs, _ := st.List(ctx)
	g := &Gate{Store: st, Breaker: DefaultBreaker, Now: func() time.Time { return at(2) }}
	for _, c := range []struct {
		runs   []runner.Run
		want   bool
		reason string
	}{
		{[]runner.Run{{Repo: "OCTO/app", ID: 7}}, true, ReasonRerun},
		{[]runner.Run{{Repo: "octo/app", ID: 8}}, false, ""},
		{[]runner.Run{{Repo: "octo/other", ID: 7}}, false, ""},
	} {
		got, reason, err := g.OnDemand(ctx, "small", c.runs)
		if err != nil || got != c.want || reason != c.reason {
			t.Fatalf("OnDemand(%v) = %v %q %v, want %v %q", c.runs, got, reason, err, c.want, c.reason)
		}
	}
	if got, _ := Decision(recs, DefaultBreaker, "small", []runner.Run{{Repo: "octo/app", ID: 7}}, at(1).Add(rerunOnDemandFor+time.Second)); got {
		t.Fatal("a re-run marker outlived rerunOnDemandFor")
	}
	gh.refuse = true
	st.recs[other] = Record{InstanceID: other, OwnerLevel: tags.TypeOrg, Owner: "octo", RunnerID: 9, At: t0}
	if err := r.JobFailed(ctx, failed(300, 9), other); err != nil {
		t.Fatalf("GitHub's refusal is final, not retried: %v", err)
	}
}

func TestGateBreaker(t *testing.T) {
	st := newStore(Record{InstanceID: inst, Config: "small", At: at(0)}, Record{InstanceID: other, Config: "small", At: at(5)})
	for _, c := range []struct {
		config string
		now    time.Time
		want   bool
	}{{"small", at(6), true}, {"large", at(6), false}, {"small", at(36), false}} {
		g := &Gate{Store: st, Breaker: DefaultBreaker, Now: func() time.Time { return c.now }}
		got, _, err := g.OnDemand(context.Background(), c.config, nil)
		if err != nil || got != c.want {
			t.Fatalf("%s at %v: on-demand %v (%v), want %v", c.config, c.now, got, err, c.want)
		}
	}
}
