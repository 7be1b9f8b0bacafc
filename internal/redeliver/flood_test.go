package redeliver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"
)

// logHooks is GitHub's delivery log in memory on a virtual clock: newest first in pages of
// 100 (the API's largest), and a redelivery is listed at once as a new attempt that our
// (recovered) endpoint accepted.
type logHooks struct {
	log   []Delivery // oldest first
	now   func() time.Time
	posts []time.Time
}

func (h *logHooks) Page(_ context.Context, cursor string) ([]Delivery, string, error) {
	start, _ := strconv.Atoi(cursor)
	var page []Delivery
	for i := len(h.log) - 1 - start; i >= 0 && len(page) < 100; i-- {
		page = append(page, h.log[i])
	}
	next := ""
	if start+len(page) < len(h.log) {
		next = strconv.Itoa(start + len(page))
	}
	return page, next, nil
}

func (h *logHooks) Redeliver(_ context.Context, id int64) error {
	i := slices.IndexFunc(h.log, func(d Delivery) bool { return d.ID == id })
	d := h.log[i]
	d.ID, d.DeliveredAt, d.Redelivery, d.StatusCode = int64(len(h.log)+1), h.now().Truncate(time.Second), true, 202
	h.log = append(h.log, d)
	h.posts = append(h.posts, h.now())
	return nil
}

// TestFloodRecoveryPrefersQueued: someone floods the webhook URL for 30 minutes and every
// delivery in that time fails (429). The organisation runs 5 self-hosted jobs a minute (one
// `queued` event each: no runner came) and 10 GitHub-hosted ones (queued, in_progress and
// completed events), 1,050 failed deliveries. Passes every 10 minutes after the flood must
// give every self-hosted job its `queued` delivery again before it leaves the 1-hour
// look-back, within GitHub's content limits (80 a minute, 500 an hour). A fixed pass of 100,
// oldest event first across all actions, replays 600 deliveries in the hour and loses the
// self-hosted jobs queued in the flood's second half.
func TestFloodRecoveryPrefersQueued(t *testing.T) {
	start := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	h := &logHooks{now: clk.now}
	ours := map[string]bool{}
	add := func(at time.Time, guid, action string) {
		h.log = append(h.log, Delivery{ID: int64(len(h.log) + 1), GUID: guid, DeliveredAt: at, StatusCode: 429, Event: Event, Action: action})
	}
	for m := range 30 {
		at := start.Add(time.Duration(m) * time.Minute)
		for j := range 5 {
			g := fmt.Sprintf("self-%d-%d", m, j)
			ours[g] = true
			add(at, g, ActionQueued)
		}
		for j := range 10 {
			add(at, fmt.Sprintf("hosted-%d-%d-q", m, j), ActionQueued)
			add(at.Add(10*time.Second), fmt.Sprintf("hosted-%d-%d-p", m, j), "in_progress")
			add(at.Add(40*time.Second), fmt.Sprintf("hosted-%d-%d-c", m, j), "completed")
		}
	}
	r := &Redeliverer{Hooks: h, Memory: &memMemory{mem: map[string]Redelivered{}}, Lookback: time.Hour, MaxPerPass: 100,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.now,
		Sleep: func(_ context.Context, d time.Duration) error { clk.advance(d); return nil }}
	for pass := range 8 { // the flood ends at :30; passes at :30, :40, … :100
		clk.t = start.Add(30*time.Minute + time.Duration(pass)*10*time.Minute)
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	recovered := map[string]bool{}
	for _, d := range h.log {
		if d.Redelivery && succeeded(d.StatusCode) {
			recovered[d.GUID] = true
		}
	}
	var lost []string
	for g := range ours {
		if !recovered[g] {
			lost = append(lost, g)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		t.Errorf("%d of %d self-hosted jobs never got their queued delivery again (first %s); %d redeliveries in all",
			len(lost), len(ours), lost[0], len(h.posts))
	}
	for i, at := range h.posts {
		inMinute, inHour := 0, 0
		for _, b := range h.posts[i:] {
			if b.Sub(at) < time.Minute {
				inMinute++
			}
			if b.Sub(at) < time.Hour {
				inHour++
			}
		}
		if inMinute > contentPerMinute || inHour > contentPerHour {
			t.Fatalf("from %s: %d redeliveries in a minute, %d in an hour; GitHub allows %d and %d",
				at.Format(time.TimeOnly), inMinute, inHour, contentPerMinute, contentPerHour)
		}
	}
}
