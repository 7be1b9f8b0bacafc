package ghsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Account types, as GitHub writes them in owner.type.
const (
	TypeOrganization = "Organization"
	TypeUser         = "User"
)

// Errors of the Go API.
var (
	ErrExists   = errors.New("ghsim: already exists")
	ErrNotFound = errors.New("ghsim: not found")
)

// Account is an organization or a user.
type Account struct {
	ID    int64
	Login string
	Type  string // TypeOrganization or TypeUser
}

// Repo is a repository.
type Repo struct {
	ID       int64
	Owner    Account
	Name     string
	FullName string
	Private  bool
}

// Installation is an App installed in one account, on all its repositories or a selection.
type Installation struct {
	ID      int64
	AppID   int64 // the App installed (Sim.Apps)
	Account Account
	Repos   []string // selected repository names; nil means all
}

type account struct {
	Account
	created time.Time
}

type repo struct {
	Repo
	created time.Time
}

type installation struct {
	Installation
	created time.Time
}

type runnerGroup struct {
	ID   int64
	Name string
}

// defaultGroupID is the id GitHub gives every org's Default runner group.
const defaultGroupID = 1

// AddOrg creates an organization, with its Default runner group.
func (s *Sim) AddOrg(login string) (Account, error) { return s.addAccount(login, TypeOrganization) }

// AddUser creates a user account.
func (s *Sim) AddUser(login string) (Account, error) { return s.addAccount(login, TypeUser) }

func (s *Sim) addAccount(login, typ string) (Account, error) {
	if login == "" || strings.Contains(login, "/") {
		return Account{}, fmt.Errorf("ghsim: account login %q is invalid", login)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(login)
	if _, ok := s.accounts[k]; ok {
		return Account{}, fmt.Errorf("account %s: %w", login, ErrExists)
	}
	s.nextID++
	a := &account{Account: Account{ID: s.nextID, Login: login, Type: typ}, created: s.now()}
	s.accounts[k] = a
	if typ == TypeOrganization {
		s.groups[k] = []runnerGroup{{ID: defaultGroupID, Name: "Default"}}
	}
	return a.Account, nil
}

// AddRepo creates owner/name; the owner must exist.
func (s *Sim) AddRepo(owner, name string) (Repo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[strings.ToLower(owner)]
	if !ok {
		return Repo{}, fmt.Errorf("owner %s: %w", owner, ErrNotFound)
	}
	full := a.Login + "/" + name
	k := strings.ToLower(full)
	if _, ok := s.repos[k]; ok {
		return Repo{}, fmt.Errorf("repository %s: %w", full, ErrExists)
	}
	s.nextID++
	r := &repo{Repo: Repo{ID: s.nextID, Owner: a.Account, Name: name, FullName: full, Private: true}, created: s.now()}
	s.repos[k] = r
	return r.Repo, nil
}

// AddRunnerGroup creates a runner group in an org; every group is visible to all its
// repositories.
func (s *Sim) AddRunnerGroup(org, name string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(org)
	if _, ok := s.groups[k]; !ok {
		return 0, fmt.Errorf("organization %s: %w", org, ErrNotFound)
	}
	s.nextID++
	s.groups[k] = append(s.groups[k], runnerGroup{ID: s.nextID, Name: name})
	return s.nextID, nil
}

// Install installs the webhook App in account, on the named repositories or, with none, on
// all.
func (s *Sim) Install(acct string, repos ...string) (Installation, error) {
	return s.InstallApp(s.opts.AppID, acct, repos...)
}

// InstallApp installs App appID (AddApp) in account, on the named repositories or, with none,
// on all. An account holds one installation of each App, as on GitHub.
func (s *Sim) InstallApp(appID int64, acct string, repos ...string) (Installation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app(appID) == nil {
		return Installation{}, fmt.Errorf("app %d: %w", appID, ErrNotFound)
	}
	a, ok := s.accounts[strings.ToLower(acct)]
	if !ok {
		return Installation{}, fmt.Errorf("account %s: %w", acct, ErrNotFound)
	}
	if s.installationOf(appID, a.Login) != nil {
		return Installation{}, fmt.Errorf("installation in %s: %w", acct, ErrExists)
	}
	for _, r := range repos {
		if _, ok := s.repos[strings.ToLower(a.Login+"/"+r)]; !ok {
			return Installation{}, fmt.Errorf("repository %s/%s: %w", a.Login, r, ErrNotFound)
		}
	}
	s.nextID++
	in := &installation{Installation: Installation{ID: s.nextID, AppID: appID, Account: a.Account, Repos: slices.Clone(repos)}, created: s.now()}
	s.installs[in.ID] = in
	return in.Installation, nil
}

// installationOf returns App appID's installation in account login, or nil. Caller holds mu.
func (s *Sim) installationOf(appID int64, login string) *installation {
	for _, in := range s.installs {
		if in.AppID == appID && strings.EqualFold(in.Account.Login, login) {
			return in
		}
	}
	return nil
}

// covers reports whether the installation may access the repository.
func (in *installation) covers(r *repo) bool {
	if r.Owner.ID != in.Account.ID {
		return false
	}
	return in.Repos == nil || slices.ContainsFunc(in.Repos, func(n string) bool { return strings.EqualFold(n, r.Name) })
}

// repoInstallation returns App appID's installation covering r, or nil. Caller holds mu.
func (s *Sim) repoInstallation(appID int64, r *repo) *installation {
	in := s.installationOf(appID, r.Owner.Login)
	if in == nil || !in.covers(r) {
		return nil
	}
	return in
}

// Uninstall removes the webhook App's installation in account (DELETE
// /app/installations/{id} on GitHub); Install puts a new one back.
func (s *Sim) Uninstall(acct string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.installationOf(s.opts.AppID, acct)
	if in == nil {
		return fmt.Errorf("installation in %s: %w", acct, ErrNotFound)
	}
	delete(s.installs, in.ID)
	return nil
}
