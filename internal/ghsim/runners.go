package ghsim

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Runner levels.
const (
	LevelOrg  = "org"
	LevelRepo = "repo"
)

// runnerVersion is what connected runners report.
const runnerVersion = "2.330.0"

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

// jitFiles is the shape of GitHub's encoded_jit_config: base64 of a JSON object holding the
// runner's .runner, .credentials and .credentials_rsaparams files, each base64 of JSON.
type jitFiles struct {
	Runner      string `json:".runner"`
	Credentials string `json:".credentials"`
	RSAParams   string `json:".credentials_rsaparams"`
}

type jitRunnerFile struct {
	AgentID    int64  `json:"AgentId"`
	AgentName  string `json:"AgentName"`
	PoolID     int64  `json:"PoolId"`
	PoolName   string `json:"PoolName"`
	ServerURL  string `json:"ServerUrl"`
	GitHubURL  string `json:"GitHubUrl"`
	WorkFolder string `json:"WorkFolder"`
	Ephemeral  bool   `json:"Ephemeral"`
}

type jitCredentials struct {
	Scheme string `json:"Scheme"`
	Data   struct {
		ClientID         string `json:"ClientId"`
		AuthorizationURL string `json:"AuthorizationUrl"`
	} `json:"Data"`
}

// encodeJIT builds a runner's JIT config; the client id is the secret ConnectJIT redeems.
// Caller holds mu.
func (s *Sim) encodeJIT(r *runner, groupName, workFolder string) (string, error) {
	secret := newGUID()
	s.jits[secret] = r.id
	b64 := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return base64.StdEncoding.EncodeToString(b), err
	}
	rf, err := b64(jitRunnerFile{AgentID: r.id, AgentName: r.name, PoolID: r.groupID, PoolName: groupName,
		ServerURL: "https://pipelines.actions.githubusercontent.com/" + randomString(20) + "/",
		GitHubURL: "https://github.com/" + r.scope.name, WorkFolder: workFolder, Ephemeral: true})
	if err != nil {
		return "", err
	}
	var c jitCredentials
	c.Scheme, c.Data.ClientID = "OAuth", secret
	c.Data.AuthorizationURL = "https://pipelines.actions.githubusercontent.com/_apis/oauth2/token/" + secret
	cf, err := b64(c)
	if err != nil {
		return "", err
	}
	rsa, err := b64(map[string]string{"d": randomString(32), "exponent": "AQAB", "modulus": randomString(64)})
	if err != nil {
		return "", err
	}
	return b64(jitFiles{Runner: rf, Credentials: cf, RSAParams: rsa})
}

// ConnectJIT starts a runner with an encoded_jit_config, as `run.sh --jitconfig` does: the
// registration made by generate-jitconfig comes online and may take one job. A config works
// once.
func (s *Sim) ConnectJIT(encoded string) (*RunnerConn, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("ghsim: jit config is not base64: %w", err)
	}
	var files jitFiles
	if err := json.Unmarshal(raw, &files); err != nil {
		return nil, fmt.Errorf("ghsim: jit config: %w", err)
	}
	credRaw, err := base64.StdEncoding.DecodeString(files.Credentials)
	if err != nil {
		return nil, fmt.Errorf("ghsim: jit config credentials: %w", err)
	}
	var cred jitCredentials
	if err := json.Unmarshal(credRaw, &cred); err != nil {
		return nil, fmt.Errorf("ghsim: jit config credentials: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.jits[cred.Data.ClientID]
	if !ok {
		return nil, fmt.Errorf("jit config: %w (never issued, already used, or its runner was removed)", ErrRunnerGone)
	}
	delete(s.jits, cred.Data.ClientID)
	return s.connect(s.runners[id]), nil
}

// ConnectRegistration configures and starts a runner with a registration token, as
// `config.sh --token T --name N --labels L [--ephemeral]` then `run.sh` do. The runner gets
// config.sh's default labels (self-hosted, Linux, X64) plus labels, in the Default group.
func (s *Sim) ConnectRegistration(token, name string, labels []string, ephemeral bool) (*RunnerConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.regs[token]
	if !ok || !s.now().Before(t.expires) {
		return nil, errors.New("ghsim: registration token is invalid or expired")
	}
	if name == "" {
		return nil, errors.New("ghsim: runner name is required")
	}
	if s.runnerNamed(t.scope, name) != nil {
		return nil, fmt.Errorf("runner %s in %s: %w", name, t.scope, ErrExists)
	}
	all := slices.Clone(defaultLabels)
	for _, l := range labels {
		if !slices.ContainsFunc(all, func(x string) bool { return strings.EqualFold(x, l) }) {
			all = append(all, l)
		}
	}
	r := s.newRunner(t.scope, name, defaultGroupID, all, ephemeral, false)
	return s.connect(r), nil
}

// connect brings a registration online and offers it work. Caller holds mu.
func (s *Sim) connect(r *runner) *RunnerConn {
	c := &RunnerConn{s: s, id: r.id, name: r.name, assigned: make(chan int64, 1), gone: make(chan struct{})}
	r.conn, r.online, r.connected, r.lastSeen, r.onlineAt = c, true, true, s.now(), s.now()
	s.makeIdle(r)
	return c
}

// makeIdle queues the runner for work and hands it the oldest job it can take.
// Caller holds mu.
func (s *Sim) makeIdle(r *runner) {
	s.nextID++
	r.busy, r.jobID, r.idleSeq = false, 0, s.nextID
	s.dispatch()
}

// RunnerConn is a connected runner process, held by a simulated host.
type RunnerConn struct {
	s        *Sim
	id       int64
	name     string
	assigned chan int64
	gone     chan struct{}
	ended    bool // guarded by s.mu
}

// ID is the runner's registration id.
func (c *RunnerConn) ID() int64 { return c.id }

// Name is the runner's name.
func (c *RunnerConn) Name() string { return c.name }

// Gone is closed when the connection ends (see ErrRunnerGone).
func (c *RunnerConn) Gone() <-chan struct{} { return c.gone }

// end closes the connection. Caller holds mu.
func (c *RunnerConn) end() {
	if !c.ended {
		c.ended = true
		close(c.gone)
	}
}

// offer hands the runner its job. Caller holds s.mu; the runner is idle, so at most a stale
// assignment is buffered, and it is replaced.
func (c *RunnerConn) offer(jobID int64) {
	c.drain()
	c.assigned <- jobID
}

func (c *RunnerConn) drain() {
	select {
	case <-c.assigned:
	default:
	}
}

// NextJob waits for the job GitHub assigns this runner (the job is then in_progress).
func (c *RunnerConn) NextJob(ctx context.Context) (Job, error) {
	select {
	case id := <-c.assigned:
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		return c.s.jobs[id].snapshot(), nil
	case <-c.gone:
		return Job{}, ErrRunnerGone
	case <-ctx.Done():
		return Job{}, fmt.Errorf("ghsim: wait for a job: %w", ctx.Err())
	}
}

// Complete reports the current job finished with conclusion ("success", "failure"...). An
// ephemeral runner's registration is then removed and the connection ends.
func (c *RunnerConn) Complete(conclusion string) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[c.id]
	if !ok || c.ended {
		return ErrRunnerGone
	}
	if !r.busy {
		return errors.New("ghsim: runner has no job to complete")
	}
	s.finishJob(s.jobs[r.jobID], conclusion)
	c.drain() // the host may complete without having read the assignment
	if r.ephemeral {
		s.removeRunner(r.id)
		return nil
	}
	r.lastSeen = s.now()
	s.makeIdle(r)
	return nil
}

// Disconnect stops the runner process: the registration stays, offline. A busy runner's job
// is lost as with Interrupt.
func (c *RunnerConn) Disconnect() { c.drop() }

// Interrupt is a spot interruption: the host vanishes mid-job. The registration goes
// offline; after Options.LostRunnerTimeout the job fails (and is re-run with
// Options.RetryLostJobs).
func (c *RunnerConn) Interrupt() { c.drop() }

func (c *RunnerConn) drop() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[c.id]
	if !ok || c.ended {
		return
	}
	c.end()
	r.online, r.lastSeen = false, s.now()
	c.drain() // an assignment not yet read is lost with the runner
	if !r.busy {
		return
	}
	jobID, runnerID := r.jobID, r.id
	r.busy = false
	lose := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.loseJob(jobID, runnerID)
	}
	if s.opts.LostRunnerTimeout <= 0 {
		s.loseJob(jobID, runnerID)
		return
	}
	// GitHub keeps the job in progress until it gives up on the runner.
	r.busy = true
	time.AfterFunc(s.opts.LostRunnerTimeout, lose)
}

// NewRegistrationToken issues a registration token for owner ("org" or "owner/repo"), as
// POST …/actions/runners/registration-token does, for hosts started outside ghr.
func (s *Sim) NewRegistrationToken(owner string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := scope{level: LevelOrg, name: owner}
	if strings.Contains(owner, "/") {
		r, ok := s.repos[strings.ToLower(owner)]
		if !ok {
			return "", fmt.Errorf("repository %s: %w", owner, ErrNotFound)
		}
		sc = scope{level: LevelRepo, name: r.FullName}
	} else {
		a, ok := s.accounts[strings.ToLower(owner)]
		if !ok || a.Type != TypeOrganization {
			return "", fmt.Errorf("organization %s: %w", owner, ErrNotFound)
		}
		sc.name = a.Login
	}
	return s.issueRegistrationToken(sc), nil
}

// issueRegistrationToken records a new token for sc. Caller holds mu.
func (s *Sim) issueRegistrationToken(sc scope) string {
	tok := strings.ToUpper(randomString(29))
	s.regs[tok] = &regToken{scope: sc, expires: s.now().Add(registrationTokenLifetime)}
	return tok
}
