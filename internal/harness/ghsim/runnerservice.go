package ghsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

// Runner service timing.
const (
	// defaultSessionGrace is how long a session may go without a job poll or a renewal before
	// the service treats its runner process as gone (GitHub notices a vanished runner the same
	// way, only slower); the runner renews every simrunner.RenewEvery while it runs a job.
	// Options.RunnerSessionGrace overrides it.
	defaultSessionGrace = 5 * time.Second
	// maxJobWait bounds one job long poll, so a dead client's poll cannot hold a session.
	maxJobWait = 30 * time.Second
	// maxRunnerRequest bounds a runner request body.
	maxRunnerRequest = 64 << 10
)

// RunnerService is the part of the simulated GitHub that runner processes talk to: the
// registration config.sh does on github.com and the sessions and job messages run.sh
// exchanges with the Actions service. It is the harness protocol of the simulated runner
// (internal/harness/simrunner), not GitHub's wire format; what it checks (token scope, name
// uniqueness, labels, one session per runner, a JIT config works once) is what GitHub checks.
type RunnerService struct {
	sim *Sim

	mu       sync.Mutex
	creds    map[string]int64 // client id of a configured runner (.credentials) → runner id
	sessions map[string]*session
	stop     chan struct{}
	once     sync.Once
	mux      *http.ServeMux

	// OnConnect, when set before serving, is told of every session opened (r is the
	// runner's request, for the caller's own context values).
	OnConnect func(r *http.Request, agentName string)
}

type session struct {
	conn      *RunnerConn
	ephemeral bool
	polls     int       // job polls in progress
	seen      time.Time // last poll or renewal
}

var _ http.Handler = (*RunnerService)(nil)

// NewRunnerService serves the runner protocol of s until Close.
func NewRunnerService(s *Sim) *RunnerService {
	rs := &RunnerService{sim: s, creds: map[string]int64{}, sessions: map[string]*session{}, stop: make(chan struct{}), mux: http.NewServeMux()}
	rs.mux.HandleFunc("POST /_runner/register", rs.register)
	rs.mux.HandleFunc("POST /_runner/sessions", rs.open)
	rs.mux.HandleFunc("GET /_runner/sessions/{id}/job", rs.job)
	rs.mux.HandleFunc("POST /_runner/sessions/{id}/renew", rs.renew)
	rs.mux.HandleFunc("POST /_runner/sessions/{id}/complete", rs.complete)
	rs.mux.HandleFunc("DELETE /_runner/sessions/{id}", rs.closeSession)
	go rs.reap()
	return rs
}

// Close stops watching sessions.
func (rs *RunnerService) Close() { rs.once.Do(func() { close(rs.stop) }) }

// ServeHTTP routes the runner protocol.
func (rs *RunnerService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRunnerRequest)
	rs.mux.ServeHTTP(w, r)
}

func (rs *RunnerService) register(w http.ResponseWriter, r *http.Request) {
	var req simrunner.RegisterRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		runnerError(w, http.StatusBadRequest, "registration: "+err.Error())
		return
	}
	labels := addLabels(nil, req.Labels)
	if !req.NoDefaultLabels {
		labels = withDefaultLabels(labels)
	}
	if len(labels) == 0 {
		runnerError(w, http.StatusBadRequest, "--no-default-labels needs at least one label in --labels")
		return
	}
	s := rs.sim
	s.mu.Lock()
	run, err := s.register(req.Token, req.Name, labels, req.Ephemeral, req.URL, req.RunnerGroup, req.Replace)
	var reg simrunner.Registration
	if err == nil {
		reg = simrunner.Registration{AgentID: run.id, AgentName: run.name, PoolID: run.groupID, Ephemeral: run.ephemeral, ClientID: newGUID()}
		for _, l := range run.labels {
			reg.Labels = append(reg.Labels, l.name)
		}
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, ErrExists):
		runnerError(w, http.StatusConflict, err.Error()+" (config.sh --replace replaces it)")
		return
	case errors.Is(err, ErrNotFound):
		runnerError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		runnerError(w, http.StatusUnauthorized, err.Error())
		return
	}
	rs.mu.Lock()
	rs.creds[reg.ClientID] = reg.AgentID
	rs.mu.Unlock()
	writeJSON(w, http.StatusCreated, reg)
}

func (rs *RunnerService) open(w http.ResponseWriter, r *http.Request) {
	var req simrunner.SessionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		runnerError(w, http.StatusBadRequest, "session: "+err.Error())
		return
	}
	conn, ephemeral, err := rs.connect(req)
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, ErrExists) {
			status = http.StatusConflict
		}
		runnerError(w, status, err.Error())
		return
	}
	id := sessionID()
	rs.mu.Lock()
	rs.sessions[id] = &session{conn: conn, ephemeral: ephemeral, seen: time.Now()}
	rs.mu.Unlock()
	if rs.OnConnect != nil {
		rs.OnConnect(r, conn.Name())
	}
	writeJSON(w, http.StatusCreated, simrunner.SessionInfo{SessionID: id, AgentID: conn.ID(), AgentName: conn.Name(), Ephemeral: ephemeral})
}

// connect brings the runner the request names online.
func (rs *RunnerService) connect(req simrunner.SessionRequest) (*RunnerConn, bool, error) {
	s := rs.sim
	if req.JIT {
		conn, err := s.connectJITClient(req.ClientID)
		return conn, true, err
	}
	rs.mu.Lock()
	id, ok := rs.creds[req.ClientID]
	rs.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	run, exists := s.runners[id]
	if !ok || !exists {
		return nil, false, errors.New("ghsim: runner registration was deleted or these credentials were never issued: configure the runner again")
	}
	if run.conn != nil && !run.conn.ended {
		return nil, false, errors.New("ghsim: a session for this runner already exists: " + ErrExists.Error())
	}
	return s.connect(run), run.ephemeral, nil
}

// held returns the session for r's {id} and marks a request in progress; done releases it.
func (rs *RunnerService) held(w http.ResponseWriter, r *http.Request) (*session, func()) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	x, ok := rs.sessions[r.PathValue("id")]
	if !ok {
		runnerError(w, http.StatusGone, "session ended")
		return nil, nil
	}
	x.polls++
	x.seen = time.Now()
	return x, func() {
		rs.mu.Lock()
		x.polls--
		x.seen = time.Now()
		rs.mu.Unlock()
	}
}

func (rs *RunnerService) job(w http.ResponseWriter, r *http.Request) {
	x, done := rs.held(w, r)
	if x == nil {
		return
	}
	defer done()
	wait := maxJobWait
	if ms, err := strconv.Atoi(r.URL.Query().Get("wait_ms")); err == nil && ms >= 0 {
		wait = min(wait, time.Duration(ms)*time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	j, err := x.conn.NextJob(ctx)
	switch {
	case errors.Is(err, ErrRunnerGone):
		rs.forget(r.PathValue("id"))
		runnerError(w, http.StatusGone, "runner registration removed or session ended")
	case err != nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, simrunner.JobMessage{JobID: j.ID, RunID: j.RunID, Repo: j.Repo, Name: j.Name, DurationMS: j.Duration.Milliseconds()})
	}
}

func (rs *RunnerService) renew(w http.ResponseWriter, r *http.Request) {
	x, done := rs.held(w, r)
	if x == nil {
		return
	}
	defer done()
	select {
	case <-x.conn.Gone():
		rs.forget(r.PathValue("id"))
		runnerError(w, http.StatusGone, "runner registration removed or session ended")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (rs *RunnerService) complete(w http.ResponseWriter, r *http.Request) {
	x, done := rs.held(w, r)
	if x == nil {
		return
	}
	defer done()
	var req simrunner.CompleteRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Conclusion == "" {
		runnerError(w, http.StatusBadRequest, "complete: a conclusion is required")
		return
	}
	if err := x.conn.Complete(req.Conclusion); err != nil {
		if errors.Is(err, ErrRunnerGone) {
			rs.forget(r.PathValue("id"))
			runnerError(w, http.StatusGone, err.Error())
			return
		}
		runnerError(w, http.StatusConflict, err.Error())
		return
	}
	if x.ephemeral {
		rs.forget(r.PathValue("id"))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rs *RunnerService) closeSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rs.mu.Lock()
	x, ok := rs.sessions[id]
	delete(rs.sessions, id)
	rs.mu.Unlock()
	if ok {
		x.conn.Disconnect()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rs *RunnerService) forget(id string) {
	rs.mu.Lock()
	delete(rs.sessions, id)
	rs.mu.Unlock()
}

// reap drops sessions whose runner process stopped talking: the host was terminated or
// the process killed. A busy runner's job is then lost as with RunnerConn.Interrupt.
func (rs *RunnerService) reap() {
	grace := rs.sim.opts.RunnerSessionGrace
	t := time.NewTicker(grace / 5)
	defer t.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
		}
		var lost []*RunnerConn
		rs.mu.Lock()
		for id, x := range rs.sessions {
			if x.polls == 0 && time.Since(x.seen) > grace {
				lost = append(lost, x.conn)
				delete(rs.sessions, id)
			}
		}
		rs.mu.Unlock()
		for _, c := range lost {
			c.Interrupt()
		}
	}
}

// Sessions returns the number of open runner sessions.
func (rs *RunnerService) Sessions() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.sessions)
}

func runnerError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func sessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
