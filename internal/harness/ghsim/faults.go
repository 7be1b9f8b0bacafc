package ghsim

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// defaultFaultStatus is the status of an injected error: GitHub's front end answers 502 when
// a backend is unhealthy.
const defaultFaultStatus = http.StatusBadGateway

// Fault is injected into the answers of one endpoint.
type Fault struct {
	Latency     time.Duration // added before every answer
	Jitter      time.Duration // plus a uniform random part in [0, Jitter)
	ErrorRate   float64       // fraction of calls answered with ErrorStatus instead
	ErrorStatus int           // default 502
}

type faults struct {
	rng *rng
	mu  sync.Mutex
	by  map[string]Fault
}

func newFaults(seed uint64) *faults { return &faults{rng: newRNG(seed), by: map[string]Fault{}} }

// SetFault injects f into endpoint, named as githubapp.Endpoint names it
// ("GET /orgs/{org}/actions/runners"), or into every endpoint with "*" (an endpoint's own
// fault wins). The zero Fault removes it. Draws come from Options.Seed.
func (s *Sim) SetFault(endpoint string, f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults.by, endpoint)
		return
	}
	if f.ErrorStatus == 0 {
		f.ErrorStatus = defaultFaultStatus
	}
	s.faults.by[endpoint] = f
}

// apply waits the injected latency and reports the status of an injected error, or 0.
func (f *faults) apply(ctx context.Context, endpoint string) int {
	f.mu.Lock()
	ft, ok := f.by[endpoint]
	if !ok {
		ft, ok = f.by["*"]
	}
	f.mu.Unlock()
	if !ok {
		return 0
	}
	delay := ft.Latency
	if ft.Jitter > 0 {
		delay += time.Duration(f.rng.float() * float64(ft.Jitter))
	}
	fail := ft.ErrorRate > 0 && f.rng.float() < ft.ErrorRate
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	if fail {
		return ft.ErrorStatus
	}
	return 0
}
