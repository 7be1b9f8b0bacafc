// Package redeliver recovers jobs whose webhook was lost. GitHub does not retry a failed
// delivery, so a job whose `workflow_job` delivery failed (our endpoint down, throttled or
// timing out) would wait forever for a runner. A scheduled pass lists the App's recent
// deliveries (GET /app/hook/deliveries, newest first, paged by cursor, bounded by a look-back
// window) and asks GitHub to redeliver each failed `workflow_job` delivery, at most once.
//
// At most once is kept by two records. GitHub's own: a redelivery is listed as another
// attempt with the same GUID and redelivery=true, so a GUID with such an attempt (ours or an
// operator's) is never redelivered again. And ours: one SSM String parameter,
// /<prefix>/redeliver/recent, holding the GUIDs this function redelivered within the
// look-back window. It is written before the POSTs (a crash then means not redelivered,
// never twice) and covers the seconds before GitHub lists the new attempt. No new datastore:
// one standard-tier parameter, pruned to the window and to its 4 KB limit (oldest dropped
// first, which GitHub's record still covers).
package redeliver

import (
	"cmp"
	"slices"
	"time"
)

// Event is the only webhook event redelivered: it is what starts and stops runners.
const Event = "workflow_job"

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

// Select picks the deliveries to redeliver, oldest event first (the job waiting longest), at
// most limit: failed `workflow_job` deliveries within the window whose GUID has no
// successful attempt, no redelivery attempt, and is not remembered as redelivered.
func Select(ds []Delivery, remembered map[string]time.Time, since time.Time, limit int) []Delivery {
	type group struct {
		first   time.Time
		last    Delivery // the newest failed attempt, the one to redeliver
		skip    bool
		anyFail bool
	}
	groups := map[string]*group{}
	for _, d := range ds {
		if d.Event != Event || d.GUID == "" || d.DeliveredAt.Before(since) {
			continue
		}
		g, ok := groups[d.GUID]
		if !ok {
			g = &group{first: d.DeliveredAt}
			groups[d.GUID] = g
		}
		g.first = minTime(g.first, d.DeliveredAt)
		switch {
		case d.Redelivery || succeeded(d.StatusCode):
			g.skip = true
		case !Retryable(d.StatusCode):
			g.skip = true // permanent: a redelivery would fail the same way
		case !g.anyFail || d.DeliveredAt.After(g.last.DeliveredAt):
			g.last, g.anyFail = d, true
		}
	}
	var out []Delivery
	firsts := map[string]time.Time{}
	for guid, g := range groups {
		if _, done := remembered[guid]; g.skip || done || !g.anyFail {
			continue
		}
		out = append(out, g.last)
		firsts[guid] = g.first
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		return cmp.Or(firsts[a.GUID].Compare(firsts[b.GUID]), cmp.Compare(a.ID, b.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
