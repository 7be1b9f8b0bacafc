package ghsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"slices"
	"strings"

	"github.com/ghr-dev/ghr/internal/bootstrap"
)

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
	return s.connectRegistration(token, name, withDefaultLabels(labels), ephemeral, "", "")
}

// withDefaultLabels is config.sh's label set without --no-default-labels: its defaults, then
// the given labels that are not among them (labels compare ignoring case).
func withDefaultLabels(labels []string) []string {
	return addLabels(slices.Clone(defaultLabels), labels)
}

func addLabels(all, labels []string) []string {
	for _, l := range labels {
		if !slices.ContainsFunc(all, func(x string) bool { return strings.EqualFold(x, l) }) {
			all = append(all, l)
		}
	}
	return all
}

// connectRegistration registers a runner with exactly labels, checks config.sh's --url
// against the token's scope (when url is set) and resolves --runnergroup by name.
func (s *Sim) connectRegistration(token, name string, labels []string, ephemeral bool, url, group string) (*RunnerConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.regs[token]
	if !ok || !s.now().Before(t.expires) {
		return nil, errors.New("ghsim: registration token is invalid or expired")
	}
	if name == "" {
		return nil, errors.New("ghsim: runner name is required")
	}
	if url != "" {
		u, err := neturl.Parse(url)
		if err != nil || !strings.EqualFold(strings.Trim(u.Path, "/"), t.scope.name) {
			return nil, fmt.Errorf("ghsim: registration url %q does not name %s, the token's scope", url, t.scope)
		}
	}
	groupID := int64(defaultGroupID)
	if group != "" && !strings.EqualFold(group, "Default") {
		i := slices.IndexFunc(s.groups[strings.ToLower(t.scope.name)], func(g runnerGroup) bool { return strings.EqualFold(g.Name, group) })
		if t.scope.level != LevelOrg || i < 0 {
			return nil, fmt.Errorf("runner group %s in %s: %w", group, t.scope, ErrNotFound)
		}
		groupID = s.groups[strings.ToLower(t.scope.name)][i].ID
	}
	if s.runnerNamed(t.scope, name) != nil {
		return nil, fmt.Errorf("runner %s in %s: %w", name, t.scope, ErrExists)
	}
	r := s.newRunner(t.scope, name, groupID, labels, ephemeral, false)
	return s.connect(r), nil
}

// ConnectToken starts a runner from the value the scale-up function stored for an instance,
// read as start-runner.sh reads it (bootstrap.ParseToken): a JIT config, or a registration
// document whose url, name, labels, group and ephemeral flag configure the runner. Like the
// script, which passes --no-default-labels with --labels, a document with labels gives the
// runner exactly those; one without keeps config.sh's defaults.
func (s *Sim) ConnectToken(value string) (*RunnerConn, error) {
	jit, reg, err := bootstrap.ParseToken(value)
	if err != nil {
		return nil, fmt.Errorf("ghsim: %w", err)
	}
	if jit != "" {
		return s.ConnectJIT(jit)
	}
	labels := addLabels(nil, reg.Labels)
	if len(labels) == 0 {
		labels = slices.Clone(defaultLabels)
	}
	return s.connectRegistration(reg.Token, reg.Name, labels, reg.Ephemeral, reg.URL, reg.RunnerGroup)
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
