package ghsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPrimaryRateLimit(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now, RateLimit: 3})
	w := seed(t, srv.Sim)
	tok := installationToken(t, srv, w.octo.ID)
	start := clk.Now()
	for i := 1; i <= 3; i++ {
		a := call(t, srv, "GET", "/orgs/octo/actions/runners", tok, nil)
		want := map[string]string{
			"X-Ratelimit-Limit": "3", "X-Ratelimit-Remaining": strconv.Itoa(3 - i), "X-Ratelimit-Used": strconv.Itoa(i),
			"X-Ratelimit-Reset": strconv.FormatInt(start.Add(time.Hour).Unix(), 10), "X-Ratelimit-Resource": "core",
		}
		for k, v := range want {
			if got := a.header.Get(k); got != v {
				t.Fatalf("call %d: %s = %q, want %q", i, k, got, v)
			}
		}
	}
	// /rate_limit is free and reports the spent quota.
	var rl struct {
		Resources struct{ Core struct{ Remaining, Used int } }
	}
	call(t, srv, "GET", "/rate_limit", tok, nil).decode(t, &rl)
	if rl.Resources.Core.Remaining != 0 || rl.Resources.Core.Used != 3 {
		t.Fatalf("rate_limit = %+v, want 0 remaining of 3", rl.Resources.Core)
	}
	a := call(t, srv, "GET", "/orgs/octo/actions/runners", tok, nil)
	var e struct{ Message string }
	a.decode(t, &e)
	if a.status != http.StatusForbidden || a.header.Get("X-Ratelimit-Remaining") != "0" || a.header.Get("Retry-After") != "" ||
		e.Message != fmt.Sprintf("API rate limit exceeded for installation ID %d.", w.octo.ID) {
		t.Fatalf("exhausted: %d remaining=%s %q", a.status, a.header.Get("X-Ratelimit-Remaining"), e.Message)
	}
	// Another identity has its own quota.
	if a := call(t, srv, "GET", "/orgs/other/actions/runners", installationToken(t, srv, w.other.ID), nil); a.status != http.StatusOK {
		t.Fatalf("other installation: %d", a.status)
	}
	if n := srv.Stats().PrimaryLimited["GET /orgs/{org}/actions/runners"]; n != 1 {
		t.Fatalf("primary hits = %d, want 1", n)
	}
	clk.Advance(time.Hour) // the window resets (and the token expires with it)
	tok = installationToken(t, srv, w.octo.ID)
	if a := call(t, srv, "GET", "/orgs/octo/actions/runners", tok, nil); a.status != http.StatusOK || a.header.Get("X-Ratelimit-Used") != "1" {
		t.Fatalf("after the reset: %d used=%s", a.status, a.header.Get("X-Ratelimit-Used"))
	}
}

func TestAnonymousQuota(t *testing.T) {
	srv := start(t, Options{})
	a := call(t, srv, "GET", "/repos/actions/runner/releases/latest", "", nil)
	if a.header.Get("X-Ratelimit-Limit") != "60" {
		t.Fatalf("anonymous limit = %s, want 60", a.header.Get("X-Ratelimit-Limit"))
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		method   string
		path     string
		allow    int // calls admitted in one minute
		endpoint string
	}{
		{"GETs cost 1 point", 0, "GET", "/orgs/octo/actions/runners", 900, "GET /orgs/{org}/actions/runners"},
		{"mutations cost 5", http.StatusTooManyRequests, "POST", "/orgs/octo/actions/runners/registration-token", 180, "POST /orgs/{org}/actions/runners/registration-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := start(t, Options{Now: clk.Now, SecondaryStatus: tt.status})
			w := seed(t, srv.Sim)
			tok := installationToken(t, srv, w.octo.ID)
			for i := range tt.allow {
				if a := call(t, srv, tt.method, tt.path, tok, nil); a.status >= 300 {
					t.Fatalf("call %d: %d", i+1, a.status)
				}
				if i == 0 {
					clk.Advance(10 * time.Second) // the rest come 10 s later
				}
			}
			a := call(t, srv, tt.method, tt.path, tok, nil)
			wantStatus := tt.status
			if wantStatus == 0 {
				wantStatus = http.StatusForbidden
			}
			var e struct{ Message string }
			a.decode(t, &e)
			// The first call's points leave the window 50 s from now.
			if a.status != wantStatus || a.header.Get("Retry-After") != "50" || !strings.HasPrefix(e.Message, "You have exceeded a secondary rate limit") {
				t.Fatalf("over the limit: %d Retry-After=%s %q", a.status, a.header.Get("Retry-After"), e.Message)
			}
			// Other endpoints have their own budget.
			if a := call(t, srv, "GET", "/repos/octo/app/actions/runners", tok, nil); a.status != http.StatusOK {
				t.Fatalf("another endpoint: %d", a.status)
			}
			clk.Advance(50 * time.Second)
			if a := call(t, srv, tt.method, tt.path, tok, nil); a.status >= 300 {
				t.Fatalf("after Retry-After: %d", a.status)
			}
			if st := srv.Stats(); st.SecondaryLimited[tt.endpoint] != 1 || st.Requests[tt.endpoint] != tt.allow+2 {
				t.Fatalf("secondary hits = %v, requests = %d", st.SecondaryLimited, st.Requests[tt.endpoint])
			}
		})
	}
}

func TestInjectedFaults(t *testing.T) {
	statuses := func(rngSeed uint64) string {
		srv := start(t, Options{Seed: rngSeed})
		w := seed(t, srv.Sim)
		srv.SetFault("GET /orgs/{org}/actions/runners", Fault{ErrorRate: 0.3})
		tok := installationToken(t, srv, w.octo.ID)
		var b strings.Builder
		for range 40 {
			a := call(t, srv, "GET", "/orgs/octo/actions/runners", tok, nil)
			if a.status == http.StatusBadGateway {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		if n := srv.Stats().InjectedErrors["GET /orgs/{org}/actions/runners"]; n != strings.Count(b.String(), "x") {
			t.Fatalf("injected errors counted %d, seen %d", n, strings.Count(b.String(), "x"))
		}
		// Other endpoints are untouched.
		if a := call(t, srv, "GET", "/repos/octo/app/actions/runners", tok, nil); a.status != http.StatusOK {
			t.Fatalf("unfaulted endpoint: %d", a.status)
		}
		return b.String()
	}
	a, b, c := statuses(7), statuses(7), statuses(8)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds, same faults: %s", a)
	}
	if n := strings.Count(a, "x"); n < 4 || n > 24 {
		t.Fatalf("%d of 40 failed at a 30%% rate: %s", n, a)
	}
}

func TestInjectedLatencyAndWildcard(t *testing.T) {
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	tok := installationToken(t, srv, w.octo.ID)
	srv.SetFault("*", Fault{Latency: 30 * time.Millisecond})
	srv.SetFault("GET /orgs/{org}/actions/runner-groups", Fault{ErrorRate: 1, ErrorStatus: http.StatusInternalServerError})
	t0 := time.Now()
	if a := call(t, srv, "GET", "/orgs/octo/actions/runners", tok, nil); a.status != http.StatusOK {
		t.Fatalf("status %d", a.status)
	}
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Fatalf("answered in %s, want at least the injected 30ms", d)
	}
	if a := call(t, srv, "GET", "/orgs/octo/actions/runner-groups", tok, nil); a.status != http.StatusInternalServerError {
		t.Fatalf("endpoint fault wins over *: %d", a.status)
	}
	srv.SetFault("*", Fault{})
	srv.SetFault("GET /orgs/{org}/actions/runner-groups", Fault{})
	if a := call(t, srv, "GET", "/orgs/octo/actions/runner-groups", tok, nil); a.status != http.StatusOK {
		t.Fatalf("cleared fault: %d", a.status)
	}
	st := srv.Stats()
	if st.Requests["GET /orgs/{org}/actions/runner-groups"] != 2 || st.TotalRequests() < 4 {
		t.Fatalf("requests = %v", st.Requests)
	}
}
