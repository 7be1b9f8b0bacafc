package ghsim

import (
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"slices"
	"strings"

	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// ConnectJIT starts a runner with an encoded_jit_config, as `run.sh --jitconfig` does: the
// registration made by generate-jitconfig comes online and may take one job. A config works
// once.
func (s *Sim) ConnectJIT(encoded string) (*RunnerConn, error) {
	_, credRaw, _, err := DecodeJIT(encoded)
	if err != nil {
		return nil, err
	}
	var cred jitCredentials
	if err := json.Unmarshal(credRaw, &cred); err != nil {
		return nil, fmt.Errorf("ghsim: jit config credentials: %w", err)
	}
	return s.connectJITClient(cred.Data.ClientID)
}

// connectJITClient redeems a JIT config's client id (its .credentials secret) once.
func (s *Sim) connectJITClient(clientID string) (*RunnerConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.jits[clientID]
	if !ok {
		return nil, fmt.Errorf("jit config: %w (never issued, already used, or its runner was removed)", ErrRunnerGone)
	}
	delete(s.jits, clientID)
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
	r, err := s.register(token, name, labels, ephemeral, url, group, false)
	if err != nil {
		return nil, err
	}
	return s.connect(r), nil
}

// register is config.sh's registration: it checks the token, --url and --runnergroup and
// adds an offline runner with exactly labels. replace removes a runner of the same name
// first (config.sh --replace). Caller holds mu.
func (s *Sim) register(token, name string, labels []string, ephemeral bool, url, group string, replace bool) (*runner, error) {
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
	if old := s.runnerNamed(t.scope, name); old != nil {
		if !replace {
			return nil, fmt.Errorf("runner %s in %s: %w", name, t.scope, ErrExists)
		}
		s.removeRunner(old.id)
	}
	return s.newRunner(t.scope, name, groupID, labels, ephemeral, false), nil
}

// ConnectToken starts a runner from the value the scale-up function stored for an instance,
// read as start-runner.sh reads it (runnertoken.ParseToken): a JIT config, or a registration
// document whose url, name, labels, group and ephemeral flag configure the runner. Like the
// script, which passes --no-default-labels with --labels, a document with labels gives the
// runner exactly those; one without keeps config.sh's defaults.
func (s *Sim) ConnectToken(value string) (*RunnerConn, error) {
	jit, reg, err := runnertoken.ParseToken(value)
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
