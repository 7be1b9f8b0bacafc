package ghsim

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"
)

// Runner levels.
const (
	LevelOrg  = "org"
	LevelRepo = "repo"
)

// defaultLabels are what config.sh gives a Linux x64 runner unless told otherwise; GitHub
// types them read-only.
var defaultLabels = []string{"self-hosted", "Linux", "X64"}

// readOnlyLabels are the names GitHub types "read-only" (applied by the runner itself).
var readOnlyLabels = []string{"self-hosted", "linux", "x64", "arm64", "arm", "windows", "macos"}

// ErrRunnerGone ends a runner connection: its registration was removed (by the API, or by
// GitHub after an ephemeral runner's job), or the runner disconnected.
var ErrRunnerGone = errors.New("ghsim: runner registration is gone")

// scope is where a runner is registered: an org, or a repository ("owner/repo").
type scope struct {
	level string
	name  string
}

func (sc scope) String() string { return sc.name }

func (sc scope) is(o scope) bool { return sc.level == o.level && strings.EqualFold(sc.name, o.name) }

type label struct {
	id   int64
	name string
	typ  string
}

type runner struct {
	id        int64
	name      string
	scope     scope
	groupID   int64
	labels    []label
	ephemeral bool
	jit       bool
	online    bool
	busy      bool
	jobID     int64
	idleSeq   int64 // orders idle runners: the longest idle takes the next job
	created   time.Time
	onlineAt  time.Time // last connection
	lastSeen  time.Time
	connected bool // has connected at least once (version and os are known)
	conn      *RunnerConn
}

// Runner is a registration as the test bed sees it.
type Runner struct {
	ID        int64
	Name      string
	Level     string // LevelOrg or LevelRepo
	Owner     string // org, or owner/repo
	GroupID   int64
	Labels    []string
	Ephemeral bool
	JIT       bool
	Online    bool
	Busy      bool
	JobID     int64     // the job it runs, when busy
	CreatedAt time.Time // registered (generate-jitconfig, or config.sh)
	OnlineAt  time.Time // last connected; zero if never
}

func (r *runner) snapshot() Runner {
	out := Runner{ID: r.id, Name: r.name, Level: r.scope.level, Owner: r.scope.name, GroupID: r.groupID,
		Ephemeral: r.ephemeral, JIT: r.jit, Online: r.online, Busy: r.busy, JobID: r.jobID,
		CreatedAt: r.created, OnlineAt: r.onlineAt}
	for _, l := range r.labels {
		out.Labels = append(out.Labels, l.name)
	}
	return out
}

// Runners returns every registration, by id.
func (s *Sim) Runners() []Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneRunners()
	out := make([]Runner, 0, len(s.runners))
	for _, r := range s.runners {
		out = append(out, r.snapshot())
	}
	slices.SortFunc(out, func(a, b Runner) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// pruneRunners removes registrations GitHub would have removed for staying offline.
// Caller holds mu.
func (s *Sim) pruneRunners() {
	now := s.now()
	for id, r := range s.runners {
		ttl := offlineTTL
		if r.ephemeral {
			ttl = offlineEphemeralTTL
		}
		if !r.online && now.Sub(r.lastSeen) > ttl {
			s.removeRunner(id)
		}
	}
}

// removeRunner deletes a registration and ends its connection. Caller holds mu.
func (s *Sim) removeRunner(id int64) {
	r, ok := s.runners[id]
	if !ok {
		return
	}
	delete(s.runners, id)
	for secret, rid := range s.jits {
		if rid == id {
			delete(s.jits, secret)
		}
	}
	if r.conn != nil {
		r.conn.end()
	}
}

// labelsFor types label names the way GitHub does. Caller holds mu.
func (s *Sim) labelsFor(names []string) []label {
	out := make([]label, 0, len(names))
	for _, n := range names {
		typ := "custom"
		if slices.Contains(readOnlyLabels, strings.ToLower(n)) {
			typ = "read-only"
		}
		s.nextID++
		out = append(out, label{id: s.nextID, name: n, typ: typ})
	}
	return out
}

// newRunner registers a runner. Caller holds mu.
func (s *Sim) newRunner(sc scope, name string, groupID int64, labels []string, ephemeral, jit bool) *runner {
	s.nextID++
	now := s.now()
	r := &runner{id: s.nextID, name: name, scope: sc, groupID: groupID, labels: s.labelsFor(labels),
		ephemeral: ephemeral, jit: jit, created: now, lastSeen: now}
	s.runners[r.id] = r
	return r
}

// runnerNamed finds a registration by name in a scope. Caller holds mu.
func (s *Sim) runnerNamed(sc scope, name string) *runner {
	for _, r := range s.runners {
		if r.scope.is(sc) && strings.EqualFold(r.name, name) {
			return r
		}
	}
	return nil
}
