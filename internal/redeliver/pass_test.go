package redeliver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// hookServer plays GitHub's App delivery log: newest first, cursor paging with Link
// headers, and POST .../attempts answering 202 and logging a redelivery attempt.
type hookServer struct {
	mu               sync.Mutex
	deliveries       []Delivery // newest first
	pageSize         int
	lagging          bool           // redeliveries are never listed, as right after the POST or when lost
	redeliveryStatus int            // our endpoint's answer to a redelivery; 202 when unset
	failIDs          map[int64]bool // POST answers 500
	limitIDs         map[int64]bool // POST answers 429, a secondary rate limit
	posts            []int64
	lists            int
	nextID           int64
	now              func() time.Time // the redelivery attempts' time; time.Now when nil
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/app/hook/deliveries":
		h.lists++
		start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		end := min(start+h.pageSize, len(h.deliveries))
		var page []map[string]any
		for _, d := range h.deliveries[start:end] {
			page = append(page, map[string]any{
				"id": d.ID, "guid": d.GUID, "delivered_at": d.DeliveredAt.Format(time.RFC3339), "redelivery": d.Redelivery,
				"duration": 0.1, "status": http.StatusText(d.StatusCode), "status_code": d.StatusCode, "event": d.Event,
				"action": d.Action, "installation_id": 7, "repository_id": 9,
			})
		}
		if end < len(h.deliveries) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/hook/deliveries?per_page=%d&cursor=%d>; rel="next"`, r.Host, h.pageSize, end))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/attempts"):
		id, _ := strconv.ParseInt(strings.Split(r.URL.Path, "/")[4], 10, 64)
		h.posts = append(h.posts, id)
		if h.failIDs[id] {
			http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
			return
		}
		if h.limitIDs[id] {
			w.Header().Set("Retry-After", "60")
			http.Error(w, `{"message":"You have exceeded a secondary rate limit."}`, http.StatusTooManyRequests)
			return
		}
		i := slices.IndexFunc(h.deliveries, func(d Delivery) bool { return d.ID == id })
		if i < 0 {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		if !h.lagging {
			h.nextID++
			again := h.deliveries[i]
			again.ID, again.Redelivery, again.StatusCode, again.DeliveredAt = h.nextID, true, cmp.Or(h.redeliveryStatus, 202), time.Now()
			if h.now != nil {
				again.DeliveredAt = h.now()
			}
			h.deliveries = append([]Delivery{again}, h.deliveries...)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{}`))
	default:
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

type memMemory struct {
	mem   map[string]Redelivered
	saves int
}

var _ Memory = (*memMemory)(nil)

func (m *memMemory) Load(context.Context) (map[string]Redelivered, error) {
	return maps.Clone(m.mem), nil
}

func (m *memMemory) Save(_ context.Context, mem map[string]Redelivered) error {
	m.saves++
	m.mem = maps.Clone(mem)
	return nil
}

func newPass(t *testing.T, h *hookServer, mem *memMemory) (*Redeliverer, *githubapp.App) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	app, err := githubapp.New(githubapp.Config{AppID: 1, PrivateKey: ghfake.TestKey(t), APIURL: srv.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		t.Fatal(err)
	}
	return &Redeliverer{Hooks: GitHub{App: app}, Memory: mem, Lookback: time.Hour, MaxPerPass: 10,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Sleep: func(context.Context, time.Duration) error { return nil }}, app
}

func deliveryLog() []Delivery {
	at := func(d time.Duration) time.Time { return time.Now().Add(-d).Truncate(time.Second) }
	mk := func(id int64, guid string, d time.Duration, status int) Delivery {
		return Delivery{ID: id, GUID: guid, DeliveredAt: at(d), StatusCode: status, Event: Event, Action: "queued"}
	}
	return []Delivery{ // newest first
		mk(110, "g-ok", time.Minute, 202),
		mk(109, "g-down", 5*time.Minute, 502),
		mk(108, "g-ok2", 10*time.Minute, 202),
		mk(107, "g-timeout", 20*time.Minute, 0),
		mk(106, "g-bad", 30*time.Minute, 400),
		mk(105, "g-ok3", 50*time.Minute, 202),
		mk(104, "g-old", 2*time.Hour, 502), // outside the window
		mk(103, "g-older", 3*time.Hour, 502),
		mk(102, "g-oldest", 4*time.Hour, 502),
	}
}

// clock is a pass's time, shared with the hookServer so that its attempts are listed then.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock(r *Redeliverer, h *hookServer) *clock {
	c := &clock{t: time.Now()}
	r.Now, h.now = c.now, c.now
	r.Sleep = func(_ context.Context, d time.Duration) error { c.advance(d); return nil }
	return c
}

// pass runs one pass and returns the POSTs it made.
func pass(t *testing.T, r *Redeliverer, h *hookServer) ([]int64, Result) {
	t.Helper()
	h.mu.Lock()
	h.posts = nil
	h.mu.Unlock()
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("pass: %v (%+v)", err, res)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.posts), res
}

func TestRedeliverPassOnceWhenItWorks(t *testing.T) {
	h := &hookServer{deliveries: deliveryLog(), pageSize: 3, nextID: 1000}
	mem := &memMemory{}
	r, app := newPass(t, h, mem)
	c := newClock(r, h)

	at := c.now() // the pass's time; its redeliveries are spaced after it
	posts, res := pass(t, r, h)
	if !slices.Equal(posts, []int64{107, 109}) || res.Redelivered != 2 || res.Retries != 0 {
		t.Fatalf("posts = %v, result %+v; want [107 109], oldest first", posts, res)
	}
	// Paging stops at the first page reaching past the window: 3 of the 4 pages.
	if res.Pages != 3 || app.Stats().Calls()["GET /app/hook/deliveries"] != 3 {
		t.Errorf("pages = %d, want 3", res.Pages)
	}
	if e := mem.mem["g-down"]; e.Count != 1 || !e.Last.Equal(at) || len(mem.mem) != 2 {
		t.Errorf("memory = %v", mem.mem)
	}

	// The redeliveries succeeded: no pass redelivers again, within the backoff or after it.
	for _, wait := range []time.Duration{0, 10 * time.Minute} {
		c.advance(wait)
		if posts, res := pass(t, r, h); len(posts) != 0 {
			t.Fatalf("%s later: posted %v (%+v)", wait, posts, res)
		}
	}
}

func TestRedeliverPassRetriesFailedRedeliveries(t *testing.T) {
	h := &hookServer{deliveries: deliveryLog(), pageSize: 100, nextID: 1000, redeliveryStatus: http.StatusBadGateway}
	mem := &memMemory{}
	r, _ := newPass(t, h, mem)
	c := newClock(r, h)
	steps := []struct {
		wait  time.Duration // since the previous pass
		posts []int64
	}{
		{0, []int64{107, 109}},              // first redeliveries, both answered 502
		{30 * time.Second, nil},             // within the backoff: nothing doubled
		{retryBackoff, []int64{1001, 1002}}, // retried: the newest attempt of each
		{retryBackoff, nil},                 // the second backoff is twice as long
		{retryBackoff, []int64{1003, 1004}},
		{10 * time.Minute, nil}, // the bound is reached, still inside the window
	}
	for i, s := range steps {
		c.advance(s.wait)
		posts, res := pass(t, r, h)
		if !slices.Equal(posts, s.posts) {
			t.Fatalf("pass %d: posted %v, want %v (%+v)", i, posts, s.posts, res)
		}
		if s.posts != nil && i > 0 && res.Retries != len(s.posts) {
			t.Errorf("pass %d: %d retries counted, want %d", i, res.Retries, len(s.posts))
		}
	}
	if e := mem.mem["g-timeout"]; e.Count != maxRedeliveries {
		t.Errorf("memory = %v, want %d redeliveries of g-timeout", mem.mem, maxRedeliveries)
	}
}

func TestRedeliverMemoryCoversListingLag(t *testing.T) {
	// GitHub never lists our redeliveries: in flight at first, then lost. Our memory alone
	// keeps them apart by the backoff and within the bound.
	h := &hookServer{deliveries: deliveryLog(), pageSize: 100, lagging: true}
	mem := &memMemory{}
	r, _ := newPass(t, h, mem)
	c := newClock(r, h)
	var total []int64
	for _, wait := range []time.Duration{0, 20 * time.Second, 20 * time.Second, retryBackoff, time.Minute, time.Minute, 5 * time.Minute} {
		c.advance(wait)
		posts, _ := pass(t, r, h)
		total = append(total, posts...)
	}
	if want := []int64{107, 109, 107, 109, 107, 109}; !slices.Equal(total, want) {
		t.Fatalf("posts = %v, want %v: three each, a backoff apart", total, want)
	}
	// Once outside the window, remembered GUIDs are pruned.
	c.advance(2 * time.Hour)
	if posts, _ := pass(t, r, h); len(posts) != 0 || len(mem.mem) != 0 {
		t.Fatalf("after the window: posted %v, memory %v", posts, mem.mem)
	}
}

func TestRedeliverFailedPostIsNotCounted(t *testing.T) {
	h := &hookServer{deliveries: deliveryLog(), pageSize: 100, failIDs: map[int64]bool{109: true}, nextID: 1000}
	mem := &memMemory{}
	r, _ := newPass(t, h, mem)
	c := newClock(r, h)
	// Our first redelivery of g-timeout was lost three minutes ago: this pass retries it.
	lost := Redelivered{Count: 1, Last: c.now().Add(-3 * time.Minute)}
	mem.mem = map[string]Redelivered{"g-timeout": lost}
	h.limitIDs = map[int64]bool{107: true}

	// A rate limit stops the pass: neither attempt counts, g-timeout keeps its record.
	posts, res := pass(t, r, h)
	if !slices.Equal(posts, []int64{107}) || res.Redelivered != 0 || res.Failed != 2 {
		t.Fatalf("posts %v, result %+v; want [107], then a stop", posts, res)
	}
	if _, ok := mem.mem["g-down"]; ok || mem.mem["g-timeout"] != lost {
		t.Fatalf("memory after a rate limit = %v", mem.mem)
	}
	// A failed POST is not counted; the others are.
	h.limitIDs = nil
	posts, res = pass(t, r, h)
	if !slices.Equal(posts, []int64{107, 109}) || res.Redelivered != 1 || res.Failed != 1 || res.Retries != 1 {
		t.Fatalf("posts %v, result %+v", posts, res)
	}
	if _, ok := mem.mem["g-down"]; ok || mem.mem["g-timeout"].Count != 2 {
		t.Errorf("memory = %v", mem.mem)
	}
	// The next pass tries the failed one at once: it was never made.
	h.failIDs = nil
	if posts, _ := pass(t, r, h); !slices.Equal(posts, []int64{109}) {
		t.Fatalf("retry posted %v; want [109]", posts)
	}
}
