package redeliver

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func job(id int64, guid string, at time.Duration, status int) Delivery {
	return Delivery{ID: id, GUID: guid, DeliveredAt: ago(at), StatusCode: status, Event: Event, Action: "queued"}
}

// again is a redelivery attempt of guid (ours or an operator's: GitHub does not say).
func again(id int64, guid string, at time.Duration, status int) Delivery {
	d := job(id, guid, at, status)
	d.Redelivery = true
	return d
}

// picked renders picks as "id/redeliveries before".
func picked(ps []Pick) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d/%d", p.ID, p.Redeliveries))
	}
	return out
}

func TestSelectRetries(t *testing.T) {
	mem := func(count int, last time.Time) map[string]Redelivered {
		return map[string]Redelivered{"a": {Count: count, Last: last}}
	}
	push := job(1, "a", time.Minute, 502)
	push.Event = "push"
	for _, c := range []struct {
		name string
		ds   []Delivery
		mem  map[string]Redelivered
		want []string
	}{
		{"a fresh failure is redelivered at once", []Delivery{job(1, "a", 10*time.Second, 502)}, nil, []string{"1/0"}},
		{"a success is not", []Delivery{job(1, "a", 10*time.Minute, 202)}, nil, nil},
		{"another event is not", []Delivery{push}, nil, nil},
		{"400 is refused for good", []Delivery{job(1, "a", 10*time.Minute, 400)}, nil, nil},
		{"405 is refused for good", []Delivery{job(1, "a", 10*time.Minute, 405)}, nil, nil},
		{"413 is refused for good", []Delivery{job(1, "a", 10*time.Minute, 413)}, nil, nil},
		{"a redelivery refused for good ends the retries",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 400)}, nil, nil},
		{"a redelivery that succeeded ends the retries",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 29*time.Minute, 202)}, nil, nil},
		{"a success among failed redeliveries ends the retries",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 202), again(3, "a", 10*time.Minute, 502)}, nil, nil},
		{"an event older than the window is not", []Delivery{job(1, "a", 2*time.Hour, 502)}, nil, nil},
		{"an event at the window's edge is", []Delivery{job(1, "a", time.Hour, 502)}, nil, []string{"1/0"}},
		{"an event whose first delivery left the window is not, even redelivered inside",
			[]Delivery{job(1, "a", time.Hour+time.Second, 502), again(2, "a", 30*time.Minute, 502)}, nil, nil},
		{"a failed redelivery is retried after the backoff, its newest attempt",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 0)}, nil, []string{"2/1"}},
		{"a failed redelivery within the backoff waits",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 50*time.Second, 0)}, nil, nil},
		{"the second backoff is doubled: still waiting",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502), again(3, "a", 110*time.Second, 502)}, nil, nil},
		{"the second backoff is doubled: over",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502), again(3, "a", 2*time.Minute, 502)}, nil, []string{"3/2"}},
		{"the bound ends the retries",
			[]Delivery{job(1, "a", 50*time.Minute, 502), again(2, "a", 40*time.Minute, 502), again(3, "a", 30*time.Minute, 0), again(4, "a", 20*time.Minute, 502)},
			nil, nil},
		{"ours in flight, not listed yet, is not doubled",
			[]Delivery{job(1, "a", 10*time.Minute, 502)}, mem(1, ago(20*time.Second)), nil},
		{"ours not listed after the backoff was lost: retried",
			[]Delivery{job(1, "a", 10*time.Minute, 502)}, mem(1, ago(5*time.Minute)), []string{"1/1"}},
		{"ours listed is not counted twice",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502)}, mem(1, ago(20*time.Minute+time.Second)), []string{"2/1"}},
		{"ours listed in the second of our record (GitHub lists whole seconds)",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502)}, mem(1, ago(20*time.Minute).Add(700*time.Millisecond)), []string{"2/1"}},
		{"our second in flight after our first listed waits the doubled backoff",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502)}, mem(2, ago(90*time.Second)), nil},
		{"our second lost after our first listed: retried as the third",
			[]Delivery{job(1, "a", 30*time.Minute, 502), again(2, "a", 20*time.Minute, 502)}, mem(2, ago(3*time.Minute)), []string{"2/2"}},
		{"our own count bounds redeliveries GitHub never listed",
			[]Delivery{job(1, "a", 50*time.Minute, 502)}, mem(3, ago(10*time.Minute)), nil},
		{"operator redeliveries count towards the bound",
			[]Delivery{job(1, "a", 50*time.Minute, 502), again(2, "a", 40*time.Minute, 502), again(3, "a", 30*time.Minute, 502)},
			mem(1, ago(10*time.Minute)), nil},
		{"operator redeliveries leave the rest of the bound",
			[]Delivery{job(1, "a", 50*time.Minute, 502), again(2, "a", 40*time.Minute, 502), again(3, "a", 30*time.Minute, 502)},
			nil, []string{"3/2"}},
		{"a duplicate first delivery is one event",
			[]Delivery{job(1, "a", 10*time.Minute, 502), job(2, "a", 10*time.Minute, 0)}, nil, []string{"2/0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := picked(Select(c.ds, c.mem, now, ago(time.Hour), 10))
			if want := append([]string{}, c.want...); !slices.Equal(got, want) {
				t.Errorf("Select = %v, want %v", got, want)
			}
		})
	}
}

func TestSelectOrderAndLimit(t *testing.T) {
	ds := []Delivery{
		job(1, "ok", time.Minute, 202),
		job(2, "down", 10*time.Minute, 502),
		job(3, "timeout", 20*time.Minute, 0),
		job(4, "throttled", 5*time.Minute, 429),
		job(5, "bad-request", 5*time.Minute, 400),
		job(7, "retried", 40*time.Minute, 500), again(8, "retried", 30*time.Minute, 503),
		job(9, "in-flight", 15*time.Minute, 500),
	}
	mem := map[string]Redelivered{"in-flight": {Count: 1, Last: ago(10 * time.Second)}}
	// The event waiting longest goes first, whatever its newest attempt.
	if got, want := picked(Select(ds, mem, now, ago(time.Hour), 10)), []string{"8/1", "3/0", "2/0", "4/0"}; !slices.Equal(got, want) {
		t.Errorf("Select = %v, want %v (oldest event first)", got, want)
	}
	if got, want := picked(Select(ds, mem, now, ago(time.Hour), 2)), []string{"8/1", "3/0"}; !slices.Equal(got, want) {
		t.Errorf("Select limited = %v, want %v", got, want)
	}
	if got := Select(ds, mem, now, ago(time.Hour), 0); len(got) != 0 {
		t.Errorf("limit 0 selected %v", picked(got))
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{0: true, 200: false, 202: false, 400: false, 401: true, 403: true, 404: false, 405: false, 408: true, 413: false, 429: true, 500: true, 502: true, 504: true} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestSelectQueuedFirst(t *testing.T) {
	action := func(d Delivery, a string) Delivery { d.Action = a; return d }
	ds := []Delivery{
		action(job(1, "done-old", 50*time.Minute, 500), "completed"),
		action(job(2, "progress", 40*time.Minute, 429), "in_progress"),
		job(3, "queued-new", 5*time.Minute, 429),
		job(4, "queued-old", 30*time.Minute, 0),
	}
	if got, want := picked(Select(ds, nil, now, ago(time.Hour), 10)), []string{"4/0", "3/0", "1/0", "2/0"}; !slices.Equal(got, want) {
		t.Errorf("Select = %v, want %v (queued events first, each kind oldest first)", got, want)
	}
	if got, want := picked(Select(ds, nil, now, ago(time.Hour), 2)), []string{"4/0", "3/0"}; !slices.Equal(got, want) {
		t.Errorf("Select limited = %v, want %v", got, want)
	}
}

func TestPassSize(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		backlog, base, spent int
		window               time.Duration
		want                 int
	}{
		{"small backlog: all of it", 7, 100, 0, 90 * time.Second, 7},
		{"at the configured pass", 100, 100, 0, 90 * time.Second, 100},
		{"backlog beyond it: what 80 a minute allows in the window", 1000, 100, 0, 90 * time.Second, 120},
		{"a longer window", 1000, 100, 0, 3 * time.Minute, 240},
		{"a short window keeps the configured pass", 1000, 100, 0, 30 * time.Second, 100},
		{"a backlog between the two", 110, 100, 0, 90 * time.Second, 110},
		{"the hour's budget left", 1000, 100, 450, 90 * time.Second, 50},
		{"the hour's budget spent", 1000, 100, 500, 90 * time.Second, 0},
		{"nothing to do", 0, 100, 0, 90 * time.Second, 0},
	} {
		if got := PassSize(tc.backlog, tc.base, tc.spent, tc.window); got != tc.want {
			t.Errorf("%s: PassSize(%d, %d, %d, %s) = %d, want %d", tc.name, tc.backlog, tc.base, tc.spent, tc.window, got, tc.want)
		}
	}
}

func TestSpentLastHour(t *testing.T) {
	ds := []Delivery{
		again(1, "a", 10*time.Minute, 202), again(2, "b", 50*time.Minute, 202), again(3, "c", 70*time.Minute, 202),
		job(4, "d", 5*time.Minute, 500), // an original delivery, not a redelivery
	}
	for _, tc := range []struct {
		name string
		mem  map[string]Redelivered
		want int
	}{
		{"listed redeliveries of the hour", nil, 2},
		{"a memory that lost most of them (its 4 KB) does not lower it", map[string]Redelivered{"a": {Count: 1, Last: ago(10 * time.Minute)}}, 2},
		{"ours not listed yet", map[string]Redelivered{"x": {Count: 2, Last: ago(time.Minute)}, "y": {Count: 1, Last: ago(2 * time.Minute)}}, 3},
		{"the memory's older ones do not count", map[string]Redelivered{"x": {Count: 3, Last: ago(2 * time.Hour)}}, 2},
	} {
		if got := SpentLastHour(ds, tc.mem, now); got != tc.want {
			t.Errorf("%s: SpentLastHour = %d, want %d", tc.name, got, tc.want)
		}
	}
}
