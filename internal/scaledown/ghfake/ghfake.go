// Package ghfake is the small stateful GitHub of the unit tests (scale-up, scale-down,
// clean-up, pool): installations, installation tokens, runner lists (paged with Link headers,
// the real JSON shapes, ?name= filter), runner GET by id and runner DELETE with GitHub's
// answers (204, 422 busy, 404), JIT configs and registration tokens, runner groups and job
// status, with failures on demand. The end-to-end world uses the GitHub simulator
// (internal/harness/ghsim) instead.
package ghfake

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
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
)

// Runner is one registration as GitHub stores it.
type Runner struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	OS     string `json:"os"`
	Status string `json:"status"` // "online" or "offline"
	Busy   bool   `json:"busy"`
}

// Installation is one App installation.
type Installation struct {
	ID      int64
	Account string
	Type    string // "Organization" or "User"
}

// Server is the fake. Owner keys are "orgs/<org>" or "repos/<owner>/<repo>", as in the URL.
type Server struct {
	*httptest.Server
	mu            sync.Mutex
	installations []Installation
	runners       map[string][]Runner
	nextID        int64
	pageSize      int // the most runners per page this fake returns, to force paging
	latency       time.Duration

	tokensMinted int
	jit          []JITConfig
	failJIT      map[string]int // runner name suffix → status to answer
	limitJIT     int            // JIT calls still to answer with a secondary rate limit
	regTokens    int
	groups       map[string]int64 // runner group name → id
	jobStatus    map[int64]string // job id → status; default queued; "error" answers 502
	lookupStatus int              // non-zero: GET /app/installations/{id} answers this status
}

// JITConfig is one generate-jitconfig call the fake answered.
type JITConfig struct {
	Path   string
	Name   string
	Labels []string
	Group  int64
	ID     int64 // the runner id answered
}

// New starts a fake with default page size 100; it is closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{runners: map[string][]Runner{}, pageSize: 100, failJIT: map[string]int{}, groups: map[string]int64{}, jobStatus: map[int64]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// SetPageSize caps page sizes below what clients ask, to exercise paging.
func (s *Server) SetPageSize(n int) { s.mu.Lock(); s.pageSize = n; s.mu.Unlock() }

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// AddRunnerGroup creates an organization runner group (the Default group, id 1, always exists).
func (s *Server) AddRunnerGroup(name string, id int64) {
	s.mu.Lock()
	s.groups[name] = id
	s.mu.Unlock()
}

// SetJobStatus sets what GET .../actions/jobs/{id} answers: "queued" (the default),
// "in_progress", "completed", or "error" for a 502.
func (s *Server) SetJobStatus(id int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobStatus[id] = status
}

// FailJIT answers status to JIT config requests for runner names ending in suffix.
func (s *Server) FailJIT(suffix string, status int) {
	s.mu.Lock()
	s.failJIT[suffix] = status
	s.mu.Unlock()
}

// LimitJIT answers the next n JIT config requests with a secondary rate limit.
func (s *Server) LimitJIT(n int) { s.mu.Lock(); s.limitJIT = n; s.mu.Unlock() }

// JITLimitLeft is how many of LimitJIT's answers are still to come.
func (s *Server) JITLimitLeft() int { s.mu.Lock(); defer s.mu.Unlock(); return s.limitJIT }

// JITConfigs returns every JIT config handed out, in order.
func (s *Server) JITConfigs() []JITConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jit)
}

// RegistrationTokens is how many registration tokens were handed out.
func (s *Server) RegistrationTokens() int { s.mu.Lock(); defer s.mu.Unlock(); return s.regTokens }

// TokensMinted is how many installation tokens were minted.
func (s *Server) TokensMinted() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokensMinted }

// AddInstallation installs the App in an account.
func (s *Server) AddInstallation(id int64, account, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installations = append(s.installations, Installation{ID: id, Account: account, Type: typ})
}

// AddRunner registers a runner and returns its id.
func (s *Server) AddRunner(owner, name string, online, busy bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	status := "offline"
	if online {
		status = "online"
	}
	s.runners[owner] = append(s.runners[owner], Runner{ID: s.nextID, Name: name, OS: "linux", Status: status, Busy: busy})
	return s.nextID
}

// SetBusy changes a runner's busy flag, as taking or finishing a job does.
func (s *Server) SetBusy(owner string, id int64, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.runners[owner] {
		if s.runners[owner][i].ID == id {
			s.runners[owner][i].Busy = busy
		}
	}
}

// Runners returns the registrations of owner.
func (s *Server) Runners(owner string) []Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runners[owner])
}

// App returns a GitHub App client aimed at the fake, with pacing that never waits.
func (s *Server) App(tb testing.TB) *githubapp.App {
	tb.Helper()
	app, err := githubapp.New(githubapp.Config{AppID: 1, PrivateKey: TestKey(tb), APIURL: s.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		tb.Fatal(err)
	}
	return app
}

var (
	keyOnce sync.Once
	keyPEM  []byte
	keyErr  error
)

// TestKey returns a PEM RSA key generated once per test binary.
func TestKey(tb testing.TB) []byte {
	tb.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			keyErr = err
			return
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	if keyErr != nil {
		tb.Fatal(keyErr)
	}
	return keyPEM
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && len(segs) == 4 && segs[0] == "app" && segs[1] == "installations" && segs[3] == "access_tokens":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
			return
		}
		s.tokensMinted++
		writeJSON(w, http.StatusCreated, map[string]any{"token": "ghs_fake" + segs[2], "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/actions/runners/generate-jitconfig"):
		if s.authed(w, r) {
			s.jitConfig(w, r, segs)
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/actions/runners/registration-token"):
		if s.authed(w, r) {
			s.regTokens++
			writeJSON(w, http.StatusCreated, map[string]any{"token": "AREG" + strconv.Itoa(s.regTokens), "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		}
	case r.Method == http.MethodGet && len(segs) == 4 && segs[0] == "orgs" && segs[3] == "runner-groups":
		groups := []map[string]any{{"id": 1, "name": "Default", "default": true}}
		for _, name := range slices.Sorted(maps.Keys(s.groups)) {
			groups = append(groups, map[string]any{"id": s.groups[name], "name": name})
		}
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(groups), "runner_groups": groups})
	case r.Method == http.MethodGet && len(segs) == 6 && segs[0] == "repos" && segs[3] == "actions" && segs[4] == "jobs":
		s.job(w, segs[5])
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "app" && segs[1] == "installations":
		s.getInstallation(w, segs[2])
	case r.Method == http.MethodGet && r.URL.Path == "/app/installations":
		s.listInstallations(w, r)
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "orgs" && segs[2] == "installation":
		s.findInstallation(w, segs[1])
	case r.Method == http.MethodGet && len(segs) == 4 && segs[0] == "repos" && segs[3] == "installation":
		s.findInstallation(w, segs[1])
	case len(segs) >= 4 && segs[len(segs)-2] == "runners" || len(segs) >= 3 && segs[len(segs)-1] == "runners":
		s.runnersEndpoint(w, r, segs)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (s *Server) authed(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "token ghs_") {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return false
	}
	return true
}

// jitConfig answers generate-jitconfig as GitHub does: the runner is registered (offline) and
// its id returned with the encoded config.
func (s *Server) jitConfig(w http.ResponseWriter, r *http.Request, segs []string) {
	var req struct {
		Name          string   `json:"name"`
		RunnerGroupID int64    `json:"runner_group_id"`
		Labels        []string `json:"labels"`
		WorkFolder    string   `json:"work_folder"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || req.Name == "" || req.RunnerGroupID == 0 || len(req.Labels) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request: " + string(body)})
		return
	}
	if s.limitJIT > 0 {
		s.limitJIT--
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "You have exceeded a secondary rate limit."})
		return
	}
	for suffix, status := range s.failJIT {
		if strings.HasSuffix(req.Name, suffix) {
			writeJSON(w, status, map[string]string{"message": "Server Error"})
			return
		}
	}
	owner := strings.Join(segs[:len(segs)-3], "/") // orgs/<org> or repos/<owner>/<repo>
	s.nextID++
	s.runners[owner] = append(s.runners[owner], Runner{ID: s.nextID, Name: req.Name, OS: "linux", Status: "offline"})
	s.jit = append(s.jit, JITConfig{Path: r.URL.Path, Name: req.Name, Labels: req.Labels, Group: req.RunnerGroupID, ID: s.nextID})
	enc := base64.StdEncoding.EncodeToString([]byte(`{".runner":"` + req.Name + `"}`))
	writeJSON(w, http.StatusCreated, map[string]any{"runner": map[string]any{"id": s.nextID, "name": req.Name, "status": "offline"}, "encoded_jit_config": enc})
}

func (s *Server) job(w http.ResponseWriter, idText string) {
	id, _ := strconv.ParseInt(idText, 10, 64)
	switch status := cmp.Or(s.jobStatus[id], "queued"); status {
	case "error":
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Server Error"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "run_id": 1, "status": status})
	}
}

func (s *Server) listInstallations(w http.ResponseWriter, r *http.Request) {
	var out []map[string]any
	for _, in := range s.installations {
		out = append(out, map[string]any{"id": in.ID, "account": map[string]any{"login": in.Account, "type": in.Type}})
	}
	page, per := s.paging(r)
	items, next := pageOf(out, page, per)
	s.link(w, r, next, per)
	writeJSON(w, http.StatusOK, items)
}

// FailInstallationLookups makes GET /app/installations/{id} answer status (0: answer again).
func (s *Server) FailInstallationLookups(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookupStatus = status
}

// getInstallation serves GET /app/installations/{id}; every installation selects all
// repositories.
func (s *Server) getInstallation(w http.ResponseWriter, idText string) {
	if s.lookupStatus != 0 {
		writeJSON(w, s.lookupStatus, map[string]string{"message": http.StatusText(s.lookupStatus)})
		return
	}
	id, _ := strconv.ParseInt(idText, 10, 64)
	for _, in := range s.installations {
		if in.ID == id {
			writeJSON(w, http.StatusOK, map[string]any{"id": in.ID, "account": map[string]any{"login": in.Account, "type": in.Type},
				"repository_selection": "all", "suspended_at": nil})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func (s *Server) findInstallation(w http.ResponseWriter, account string) {
	for _, in := range s.installations {
		if in.Account == account {
			writeJSON(w, http.StatusOK, map[string]any{"id": in.ID, "account": map[string]any{"login": in.Account, "type": in.Type}})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

// runnersEndpoint serves /orgs/{org}/actions/runners[/{id}] and the /repos/{o}/{r} forms.
func (s *Server) runnersEndpoint(w http.ResponseWriter, r *http.Request, segs []string) {
	var owner string
	var rest []string
	switch {
	case segs[0] == "orgs" && len(segs) >= 4 && segs[2] == "actions":
		owner, rest = "orgs/"+segs[1], segs[3:]
	case segs[0] == "repos" && len(segs) >= 5 && segs[3] == "actions":
		owner, rest = "repos/"+segs[1]+"/"+segs[2], segs[4:]
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		all := s.runners[owner]
		if name := r.URL.Query().Get("name"); name != "" {
			all = slices.DeleteFunc(slices.Clone(all), func(x Runner) bool { return x.Name != name })
		}
		page, per := s.paging(r)
		items, next := pageOf(all, page, per)
		s.link(w, r, next, per)
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "runners": items})
	case len(rest) == 2 && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(rest[1], 10, 64)
		i := slices.IndexFunc(s.runners[owner], func(x Runner) bool { return x.ID == id })
		if i < 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/actions/self-hosted-runners#get-a-self-hosted-runner-for-an-organization"})
			return
		}
		writeJSON(w, http.StatusOK, s.runners[owner][i])
	case len(rest) == 2 && r.Method == http.MethodDelete:
		id, _ := strconv.ParseInt(rest[1], 10, 64)
		i := slices.IndexFunc(s.runners[owner], func(x Runner) bool { return x.ID == id })
		switch {
		case i < 0:
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization"})
		case s.runners[owner][i].Busy:
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": fmt.Sprintf("Bad request - Runner %q is still running a job\"", s.runners[owner][i].Name), "documentation_url": "https://docs.github.com/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization"})
		default:
			s.runners[owner] = slices.Delete(s.runners[owner], i, i+1)
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (s *Server) paging(r *http.Request) (page, per int) {
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	per, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 100 {
		per = 30 // GitHub's default
	}
	return page, min(per, s.pageSize)
}

func pageOf[T any](all []T, page, per int) ([]T, int) {
	start := min((page-1)*per, len(all))
	end := min(start+per, len(all))
	next := 0
	if end < len(all) {
		next = page + 1
	}
	return slices.Clone(all[start:end]), next
}

func (s *Server) link(w http.ResponseWriter, r *http.Request, next, per int) {
	if next == 0 {
		return
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	q := u.Query()
	q.Set("page", strconv.Itoa(next))
	q.Set("per_page", strconv.Itoa(per))
	u.RawQuery = q.Encode()
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
