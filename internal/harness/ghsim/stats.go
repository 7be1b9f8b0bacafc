package ghsim

import (
	"maps"
	"sync"
)

// Stats counts what the simulator saw, by endpoint (githubapp.Endpoint names).
type Stats struct {
	Requests         map[string]int // every API request, answered or refused
	Unauthorized     map[string]int // 401 answers
	PrimaryLimited   map[string]int // 403 answers for an exhausted quota
	SecondaryLimited map[string]int // 403/429 secondary-limit answers
	InjectedErrors   map[string]int // answers replaced by an injected fault
	Webhooks         WebhookStats
}

// WebhookStats counts deliveries.
type WebhookStats struct {
	Emitted     int // events produced (one per job transition)
	Attempts    int // delivery records, including duplicates and redeliveries
	Delivered   int // attempts answered 2xx
	Failed      int // attempts not answered 2xx, including dropped ones
	Dropped     int // attempts lost by an injected fault
	Duplicated  int // extra attempts sent by an injected fault
	Redelivered int // attempts asked for through POST .../attempts
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats {
	return &stats{s: Stats{Requests: map[string]int{}, Unauthorized: map[string]int{}, PrimaryLimited: map[string]int{},
		SecondaryLimited: map[string]int{}, InjectedErrors: map[string]int{}}}
}

func (st *stats) add(m func(*Stats) map[string]int, endpoint string) {
	st.mu.Lock()
	m(&st.s)[endpoint]++
	st.mu.Unlock()
}

func (st *stats) hook(f func(*WebhookStats)) {
	st.mu.Lock()
	f(&st.s.Webhooks)
	st.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	c := s.stats.s
	c.Requests, c.Unauthorized = maps.Clone(c.Requests), maps.Clone(c.Unauthorized)
	c.PrimaryLimited, c.SecondaryLimited = maps.Clone(c.PrimaryLimited), maps.Clone(c.SecondaryLimited)
	c.InjectedErrors = maps.Clone(c.InjectedErrors)
	return c
}

// TotalRequests sums Requests.
func (st Stats) TotalRequests() int {
	n := 0
	for _, c := range st.Requests {
		n += c
	}
	return n
}
