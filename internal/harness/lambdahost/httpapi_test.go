package lambdahost

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// burst sends n concurrent webhook requests whose function sleeps sleepMS, and returns the
// answers by status and body.
func burst(t *testing.T, url string, n, sleepMS int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", url+"/webhook", strings.NewReader(`{}`))
			req.Header.Set("X-Test-Sleep-Ms", strconv.Itoa(sleepMS))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			key := resp.Status[:3]
			if resp.StatusCode != 202 {
				key += " " + string(body)
			}
			mu.Lock()
			got[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

// More concurrent requests than this machine runs processes: those within the function's
// concurrency wait and succeed, the rest get API Gateway's 429 body, each logged; none a
// bare 500.
func TestHTTPAPIConcurrency(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	wide := testHost(t, "run", func(f *Function) { f.Concurrency, f.Processes = 100, 4 })
	srv := httptest.NewServer(&HTTPAPI{RouteKey: "POST /webhook", Target: wide, Log: log})
	defer srv.Close()
	if got := burst(t, srv.URL, 16, 200); got["202"] != 16 {
		t.Fatalf("16 requests within a concurrency of 100 on 4 processes: %v, want all 202", got)
	}

	narrow := testHost(t, "run", func(f *Function) { f.Concurrency, f.Processes = 12, 4 })
	srv2 := httptest.NewServer(&HTTPAPI{RouteKey: "POST /webhook", Target: narrow, Log: log})
	defer srv2.Close()
	got := burst(t, srv2.URL, 16, 500)
	if got["202"] != 12 || got[`429 {"message":"Too Many Requests"}`] != 4 || len(got) != 2 {
		t.Fatalf("16 requests at a concurrency of 12: %v, want 12 served and 4 answered 429 Too Many Requests", got)
	}
	if n := strings.Count(logs.String(), `"status":429`); n != 4 {
		t.Fatalf("%d throttled requests logged, want 4:\n%s", n, logs.String())
	}
}

func TestHTTPAPIIntegrationTimeout(t *testing.T) {
	h := testHost(t, "run")
	srv := httptest.NewServer(&HTTPAPI{RouteKey: "POST /webhook", Target: h, Timeout: 300 * time.Millisecond})
	defer srv.Close()
	got := burst(t, srv.URL, 1, 1500)
	if got[`503 {"message":"Service Unavailable"}`] != 1 {
		t.Fatalf("a function outliving the integration timeout: %v, want 503 Service Unavailable", got)
	}
}
