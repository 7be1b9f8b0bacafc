package redeliver

import (
	"slices"
	"testing"
	"time"
)

var now = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func TestSelect(t *testing.T) {
	job := func(id int64, guid string, at time.Duration, status int) Delivery {
		return Delivery{ID: id, GUID: guid, DeliveredAt: ago(at), StatusCode: status, Event: Event, Action: "queued"}
	}
	redelivery := func(d Delivery, id int64, at time.Duration, status int) Delivery {
		d.ID, d.DeliveredAt, d.StatusCode, d.Redelivery = id, ago(at), status, true
		return d
	}
	push := job(20, "push", time.Minute, 502)
	push.Event = "push"
	failedThenOK := job(30, "fixed", 30*time.Minute, 502)
	failedTwice := job(40, "tried", 40*time.Minute, 502)
	ds := []Delivery{
		job(1, "ok", time.Minute, 202),
		job(2, "down", 10*time.Minute, 502),
		job(3, "timeout", 20*time.Minute, 0),
		job(4, "throttled", 5*time.Minute, 429),
		job(5, "bad-request", 5*time.Minute, 400),
		job(6, "too-old", 2*time.Hour, 502),
		job(7, "remembered", 15*time.Minute, 500),
		push,
		failedThenOK, redelivery(failedThenOK, 31, 29*time.Minute, 202),
		failedTwice, redelivery(failedTwice, 41, 39*time.Minute, 502),
	}
	mem := map[string]time.Time{"remembered": ago(10 * time.Minute)}
	ids := func(ds []Delivery) []int64 {
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if got, want := ids(Select(ds, mem, ago(time.Hour), 10)), []int64{3, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("Select = %v, want %v (oldest first)", got, want)
	}
	if got, want := ids(Select(ds, mem, ago(time.Hour), 2)), []int64{3, 2}; !slices.Equal(got, want) {
		t.Errorf("Select limited = %v, want %v", got, want)
	}
	if got := Select(ds, mem, ago(time.Hour), 0); len(got) != 0 {
		t.Errorf("limit 0 selected %v", ids(got))
	}
	// A window edge: a delivery exactly at the edge is in, a second older is out.
	edge := []Delivery{job(8, "edge", time.Hour, 502), job(9, "past", time.Hour+time.Second, 502)}
	if got := ids(Select(edge, nil, ago(time.Hour), 10)); !slices.Equal(got, []int64{8}) {
		t.Errorf("edge = %v, want [8]", got)
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{0: true, 200: false, 202: false, 400: false, 401: true, 403: true, 404: false, 408: true, 413: false, 429: true, 500: true, 502: true, 504: true} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}
