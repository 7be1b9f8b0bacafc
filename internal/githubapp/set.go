package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
)

// notInstalledTTL is how long a container remembers that an App is not installed on an
// owner before asking again: installing an App is rare, and asking costs a JWT call.
const notInstalledTTL = 10 * time.Minute

// Set is the deployment's GitHub Apps in one container: the webhook App first, then the
// others (GITHUB_APPS), each with its own credentials, installations, token cache and
// pacing. Calls on an owner's resources go out as the App Choose picks for each request
// (OwnerClient); calls about an App itself (its hook deliveries) are the webhook App's.
// A registration belongs to the owner, not the App: a runner registered as one App is listed
// and deleted as any other installed on its owner.
type Set struct {
	apps  []*App
	stats *Stats
	now   func() time.Time

	mu       sync.Mutex
	absent   map[absentKey]time.Time   // → until when the App is taken as not installed
	lookups  map[absentKey]*sync.Mutex // one installation lookup at a time per App and owner
	waitTill []time.Time               // per App: GitHub asked it to wait until then
	clients  map[string]*github.Client // owner → OwnerClient
}

type absentKey struct {
	app   int
	owner string
}

// NewSet groups apps, the webhook App first. They should share one Stats (LoadSet does).
func NewSet(apps ...*App) *Set {
	if len(apps) == 0 {
		panic("githubapp: a set needs at least the webhook App")
	}
	return &Set{apps: apps, stats: apps[0].stats, now: apps[0].now, absent: map[absentKey]time.Time{}, lookups: map[absentKey]*sync.Mutex{}, waitTill: make([]time.Time, len(apps)), clients: map[string]*github.Client{}}
}

// LoadSet loads every App of src (src.All()): each resolves its own credentials and paces on
// its own PointsPerMinute; they share one Stats (cfg.Stats, or a new one), so a function's
// call accounting covers them all. cfg.Pacer, when set, is used by the webhook App only.
func LoadSet(ctx context.Context, src config.GitHubApp, r config.ParameterReader, cfg Config) (*Set, error) {
	if cfg.Stats == nil {
		cfg.Stats = NewStats()
	}
	all := src.All()
	apps := make([]*App, len(all))
	errs := make([]error, len(all))
	// The Apps' parameters are read at once: a cold start waits for one App's reads, not
	// for each App's in turn.
	var wg sync.WaitGroup
	for i, a := range all {
		c := cfg
		if i > 0 {
			c.Pacer, c.PointsPerMinute = nil, 0 // each App its own budget
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			app, err := Load(ctx, a, r, c)
			if err != nil {
				err = fmt.Errorf("github app %d of %d: %w", i+1, len(all), err)
			}
			apps[i], errs[i] = app, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return NewSet(apps...), nil
}

// Apps returns the Apps, the webhook App first.
func (s *Set) Apps() []*App { return s.apps }

// Webhook returns the App whose webhook delivers events: the one for App-level calls.
func (s *Set) Webhook() *App { return s.apps[0] }

// Stats returns the call accounting shared by the Apps.
func (s *Set) Stats() *Stats { return s.stats }

// OwnerClient returns a client for owner's resources ("org" or "owner/repo"); each request
// goes out as the App Choose picks for its endpoint. installationID is the webhook App's
// installation on owner when known (from the event), 0 to look it up.
func (s *Set) OwnerClient(owner string, installationID int64) *github.Client {
	if installationID > 0 {
		s.apps[0].RememberInstallation(owner, installationID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[owner]
	if !ok {
		c = s.apps[0].newClient(&ownerTransport{set: s, owner: owner})
		s.clients[owner] = c
	}
	return c
}

// pick chooses the App for one request and returns it with its installation on owner.
// Candidates are built in order and the building stops at the first App that may send at
// once, so a quiet deployment never looks up, or mints tokens for, the Apps it does not need.
func (s *Set) pick(ctx context.Context, owner, endpoint string, cost int) (*App, int64, error) {
	cands := make([]Candidate, 0, len(s.apps))
	ids := make([]int64, 0, len(s.apps))
	var firstErr error
	for i, a := range s.apps {
		id, err := s.installation(ctx, i, owner)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		c := Candidate{Installed: id > 0}
		if c.Installed {
			c.Wait = max(a.pacer.Delay(endpoint, cost), s.askedWait(i))
		}
		cands, ids = append(cands, c), append(ids, id)
		if c.Installed && c.Wait <= 0 {
			break
		}
	}
	i := Choose(cands)
	if i < 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("no App of this deployment is installed on %s", owner)
		}
		return nil, 0, firstErr
	}
	return s.apps[i], ids[i], nil
}

// installation returns App i's installation on owner, 0 when it is not installed. The
// webhook App's lookup error is returned (no App at all would be as wrong); another App's
// failure only leaves it out of this call.
func (s *Set) installation(ctx context.Context, i int, owner string) (int64, error) {
	k := absentKey{i, owner}
	s.mu.Lock()
	l, ok := s.lookups[k]
	if !ok {
		l = &sync.Mutex{}
		s.lookups[k] = l
	}
	s.mu.Unlock()
	// A burst's concurrent calls would each look the owner up; one does, the rest find its
	// answer in the App's cache (or in absent) once it is in.
	l.Lock()
	defer l.Unlock()
	s.mu.Lock()
	until, ok := s.absent[k]
	s.mu.Unlock()
	if ok && s.now().Before(until) {
		return 0, nil
	}
	id, err := s.apps[i].InstallationID(ctx, owner)
	if err == nil {
		return id, nil
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		s.mu.Lock()
		s.absent[k] = s.now().Add(notInstalledTTL)
		s.mu.Unlock()
		if i == 0 {
			return 0, err
		}
		return 0, nil
	}
	if i == 0 {
		return 0, err
	}
	return 0, nil
}

// askedWait is what remains of a wait GitHub asked of App i.
func (s *Set) askedWait(i int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.waitTill[i].Sub(s.now()), 0)
}

// observe records a rate-limit answer GitHub gave App i, so the next choices pass it over.
func (s *Set) observe(i int, err error) {
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Paced {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.now().Add(rl.Wait); until.After(s.waitTill[i]) {
		s.waitTill[i] = until
	}
}

func (s *Set) index(a *App) int {
	for i, b := range s.apps {
		if a == b {
			return i
		}
	}
	return -1
}

// ownerTransport sends each request as the App the set picks for it.
type ownerTransport struct {
	set   *Set
	owner string
}

func (t *ownerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.set
	endpoint := Endpoint(req.Method, req.URL.Path, s.apps[0].baseURL.Path)
	a, id, err := s.pick(req.Context(), t.owner, endpoint, requestCost(req.Method))
	if err != nil {
		return nil, err
	}
	resp, err := (&installationTransport{app: a, id: id, base: a.http.Transport}).RoundTrip(req)
	if err != nil {
		s.observe(s.index(a), err)
	}
	return resp, err
}
