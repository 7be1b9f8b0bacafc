package redeliver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	mu         sync.Mutex
	deliveries []Delivery // newest first
	pageSize   int
	lagging    bool           // redeliveries are not listed yet, as right after the POST
	failIDs    map[int64]bool // POST answers 500
	posts      []int64
	lists      int
	nextID     int64
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
		i := slices.IndexFunc(h.deliveries, func(d Delivery) bool { return d.ID == id })
		if i < 0 {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		if !h.lagging {
			h.nextID++
			again := h.deliveries[i]
			again.ID, again.Redelivery, again.StatusCode, again.DeliveredAt = h.nextID, true, 202, time.Now()
			h.deliveries = append([]Delivery{again}, h.deliveries...)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{}`))
	default:
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

type memMemory struct {
	mem   map[string]time.Time
	saves int
}

func (m *memMemory) Load(context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for k, v := range m.mem {
		out[k] = v
	}
	return out, nil
}

func (m *memMemory) Save(_ context.Context, mem map[string]time.Time) error {
	m.saves++
	m.mem = mem
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
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, app
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

func TestRedeliverPassAtMostOnce(t *testing.T) {
	ctx := context.Background()
	h := &hookServer{deliveries: deliveryLog(), pageSize: 3, nextID: 1000}
	mem := &memMemory{}
	r, app := newPass(t, h, mem)

	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.posts, []int64{107, 109}) || res.Redelivered != 2 {
		t.Fatalf("posts = %v, result %+v; want [107 109], oldest first", h.posts, res)
	}
	// Paging stops at the first page reaching past the window: 3 of the 4 pages.
	if res.Pages != 3 || app.Stats().Calls()["GET /app/hook/deliveries"] != 3 {
		t.Errorf("pages = %d, want 3", res.Pages)
	}
	if _, ok := mem.mem["g-down"]; !ok || len(mem.mem) != 2 {
		t.Errorf("memory = %v", mem.mem)
	}

	// The next pass sees the redelivery attempts and its memory: nothing again.
	h.posts = nil
	if res, err = r.Run(ctx); err != nil || len(h.posts) != 0 {
		t.Fatalf("second pass posted %v (%+v, %v)", h.posts, res, err)
	}
}

func TestRedeliverMemoryCoversListingLag(t *testing.T) {
	ctx := context.Background()
	h := &hookServer{deliveries: deliveryLog(), pageSize: 100, lagging: true}
	mem := &memMemory{}
	r, _ := newPass(t, h, mem)
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h.posts = nil
	if _, err := r.Run(ctx); err != nil || len(h.posts) != 0 {
		t.Fatalf("GitHub not listing the attempt yet: second pass posted %v, %v", h.posts, err)
	}
	// Once outside the window, remembered GUIDs are pruned.
	r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := r.Run(ctx); err != nil || len(mem.mem) != 0 {
		t.Fatalf("memory after the window = %v, %v", mem.mem, err)
	}
}

func TestRedeliverFailedPostIsNotRemembered(t *testing.T) {
	ctx := context.Background()
	h := &hookServer{deliveries: deliveryLog(), pageSize: 100, failIDs: map[int64]bool{109: true}, nextID: 1000}
	mem := &memMemory{}
	r, _ := newPass(t, h, mem)
	res, err := r.Run(ctx)
	if err != nil || res.Redelivered != 1 || res.Failed != 1 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if _, ok := mem.mem["g-down"]; ok {
		t.Errorf("a failed redelivery was remembered: %v", mem.mem)
	}
	h.failIDs, h.posts = nil, nil
	if _, err := r.Run(ctx); err != nil || !slices.Equal(h.posts, []int64{109}) {
		t.Fatalf("retry posted %v, %v; want [109]", h.posts, err)
	}
}
