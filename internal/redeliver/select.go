// Package redeliver recovers jobs whose webhook was lost. GitHub does not retry a failed
// delivery, so a job whose `workflow_job` delivery failed (our endpoint down, throttled or
// timing out) would wait forever for a runner. A scheduled pass lists the App's recent
// deliveries (GET /app/hook/deliveries, newest first, paged by cursor, bounded by a look-back
// window) and asks GitHub to redeliver each failed `workflow_job` event again, a bounded
// number of times, since a redelivery can fail too (our function crashed, or the attempt was
// lost again) and one failed replay must not lose the job.
//
// An event (its attempts share a GUID) whose first delivery lies within the window is
// redelivered when none of its attempts succeeded, none was refused for good (400, 405,
// 413: the same payload would be refused again), it has had fewer than maxRedeliveries
// redeliveries (ours and an operator's), and its last redelivery is older than a backoff
// that doubles per redelivery. A duplicate delivery is harmless downstream (scale-up is
// idempotent per job id); the bound and the backoff keep a failing endpoint from being
// flooded.
//
// Redeliveries are counted from two records. GitHub's own: a redelivery is listed as another
// attempt with the same GUID and redelivery=true. And ours: one SSM String parameter,
// /<prefix>/redeliver/recent, holding per GUID how many times this function redelivered it
// and when it last did, within the look-back window. It is written before the POSTs (a crash
// then means a redelivery counted but not made, never one made twice) and covers the seconds
// before GitHub lists the new attempt: an attempt of ours newer than every listed attempt is
// in flight (or lost), counts towards the bound and holds the backoff, so an attempt in
// flight is never doubled. No new datastore: one standard-tier parameter, pruned to the
// window and to its 4 KB limit (oldest dropped first, which GitHub's record then covers).
package redeliver

import (
	"cmp"
	"slices"
	"time"
)

// Event is the only webhook event redelivered: it is what starts and stops runners.
const Event = "workflow_job"

// maxRedeliveries bounds one event's redeliveries: two failed replays in a row are already
// rare under a 5% loss; more would only flood an endpoint that refuses every delivery.
const maxRedeliveries = 3

// retryBackoff is the wait after an event's first redelivery before the next (doubled after
// each further one): GitHub lists an attempt once its 10-second webhook timeout has run at
// most, so an attempt of ours unlisted after a minute is lost, not in flight.
const retryBackoff = time.Minute

// Delivery is one delivery attempt as GitHub lists it.
type Delivery struct {
	ID          int64
	GUID        string // the X-GitHub-Delivery id, shared by an event's attempts
	DeliveredAt time.Time
	Redelivery  bool
	StatusCode  int // our endpoint's answer; 0 when it gave none (timeout, connection refused)
	Event       string
	Action      string
}

// Redelivered is what the memory keeps of one event: how many times this function
// redelivered it and when it last did.
type Redelivered struct {
	Count int
	Last  time.Time
}

// Pick is a delivery chosen for redelivery and the redeliveries its event had before.
type Pick struct {
	Delivery
	Redeliveries int
}

// Retryable reports whether a redelivery can succeed where the attempt failed: no answer,
// an auth failure (a webhook secret being rotated), a timeout, throttling or a server error.
// 400, 405 and 413 would be answered the same way again.
func Retryable(status int) bool {
	switch {
	case status == 0, status == 401, status == 403, status == 408, status == 429:
		return true
	case status >= 500:
		return true
	}
	return false
}

func succeeded(status int) bool { return status >= 200 && status < 300 }

// backoff is the wait after an event's n-th redelivery (n ≥ 1) before the next.
func backoff(n int) time.Duration { return retryBackoff << (n - 1) }

// history is what the listing says about one event.
type history struct {
	original       bool      // its first delivery (not a redelivery) lies in the window
	first          time.Time // its oldest attempt in the window: the job waiting longest goes first
	latest         Delivery  // its newest attempt, the one to redeliver
	redeliveries   int       // redelivery=true attempts listed, ours and an operator's
	lastRedelivery time.Time
	done           bool // an attempt succeeded, or was refused for good
}

// ActionQueued is the workflow_job action that asks for a runner: the one whose loss leaves a
// job waiting forever. The other actions only tell about jobs that already have a runner (or
// run on GitHub's), and scale-down reconciles what their loss leaves behind.
const ActionQueued = "queued"

// Select picks the deliveries to redeliver at now, at most limit: the newest attempt of each
// failed `workflow_job` event within the window [since, now] that the bound and the backoff
// allow (see the package doc). `queued` events go first, then the others; within each, the
// event waiting longest goes first. remembered is the memory's record.
func Select(ds []Delivery, remembered map[string]Redelivered, now, since time.Time, limit int) []Pick {
	events := map[string]*history{}
	for _, d := range ds {
		if d.Event != Event || d.GUID == "" || d.DeliveredAt.Before(since) {
			continue
		}
		h, ok := events[d.GUID]
		if !ok {
			h = &history{first: d.DeliveredAt, latest: d}
			events[d.GUID] = h
		}
		h.first = minTime(h.first, d.DeliveredAt)
		if d.DeliveredAt.Compare(h.latest.DeliveredAt) > 0 || d.DeliveredAt.Equal(h.latest.DeliveredAt) && d.ID > h.latest.ID {
			h.latest = d
		}
		if d.Redelivery {
			h.redeliveries++
			h.lastRedelivery = maxTime(h.lastRedelivery, d.DeliveredAt)
		} else {
			h.original = true
		}
		if succeeded(d.StatusCode) || !Retryable(d.StatusCode) {
			h.done = true
		}
	}
	var out []Pick
	for guid, h := range events {
		if h.done || !h.original {
			continue // a success, a permanent refusal, or an event older than the window
		}
		ours := remembered[guid]
		n := h.redeliveries
		// GitHub lists whole seconds, and our record precedes the attempt it made.
		if ours.Count > 0 && ours.Last.Truncate(time.Second).After(h.latest.DeliveredAt) {
			n++ // ours is not listed yet: in flight, or lost on GitHub's side
		}
		n = max(n, ours.Count) // GitHub may never list a lost attempt of ours
		if n >= maxRedeliveries {
			continue
		}
		if n > 0 && now.Sub(maxTime(h.lastRedelivery, ours.Last)) < backoff(n) {
			continue
		}
		out = append(out, Pick{Delivery: h.latest, Redeliveries: n})
	}
	queuedFirst := func(p Pick) int {
		if p.Action == ActionQueued {
			return 0
		}
		return 1
	}
	slices.SortFunc(out, func(a, b Pick) int {
		return cmp.Or(cmp.Compare(queuedFirst(a), queuedFirst(b)),
			events[a.GUID].first.Compare(events[b.GUID].first), cmp.Compare(a.ID, b.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// GitHub's content-creation limits, which a redelivery (it creates a delivery) counts
// against: at most 80 a minute and 500 an hour per App, besides the 900 points per endpoint
// the pacer keeps to.
const (
	contentPerMinute = 80
	contentPerHour   = 500
)

// postGap spaces one pass's redeliveries so that no minute holds more than contentPerMinute.
const postGap = time.Minute / contentPerMinute

// PassSize is how many of backlog eligible deliveries one pass redelivers: up to base (the
// configured REDELIVER_MAX_PER_PASS) as before, and when the backlog is larger, as many as
// the pass's time allows at contentPerMinute; never more than the hour's content budget
// left after spentLastHour redeliveries. A 30-minute outage at a busy organisation's delivery
// rate leaves more failed deliveries than a fixed pass can replay before they leave the
// look-back window.
func PassSize(backlog, base, spentLastHour int, window time.Duration) int {
	size := min(backlog, base)
	if backlog > base {
		size = max(size, min(backlog, int(window/postGap)))
	}
	return max(0, min(size, contentPerHour-spentLastHour))
}

// SpentLastHour counts the redeliveries of the hour before now: those GitHub lists
// (redelivery attempts, an operator's included, which only makes a pass smaller) or, when
// more, those the memory holds (its own not listed yet; an event's every redelivery when its
// last was within the hour). The memory alone would not do: its 4 KB keeps far fewer GUIDs
// than a flood's hour of redeliveries. The listing reaches back an hour with the default
// look-back; a shorter look-back sees less of it.
func SpentLastHour(ds []Delivery, mem map[string]Redelivered, now time.Time) int {
	listed, remembered := 0, 0
	for _, d := range ds {
		if d.Redelivery && now.Sub(d.DeliveredAt) < time.Hour {
			listed++
		}
	}
	for _, e := range mem {
		if now.Sub(e.Last) < time.Hour {
			remembered += e.Count
		}
	}
	return max(listed, remembered)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
