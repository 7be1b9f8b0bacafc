package runner

import "strings"

// Levels a runner registers at. They are also the values of the ghr:type tag and of a queued
// job's level: changing one is a breaking change for running deployments.
const (
	LevelOrg  = "org"
	LevelRepo = "repo"
)

// Owner is where runners register: an organization or one repository.
type Owner struct {
	Level string // LevelOrg or LevelRepo
	Name  string // "org" for org level, "org/repo" for repo level
	// InstallationID is the App installation that serves the owner, when the caller knows it
	// (a queued job does); 0 means look it up by Name. It is not part of the owner's identity
	// and is never set on owners read back from a host.
	InstallationID int64
}

// Valid reports whether the owner names a level and a name of the right shape.
func (o Owner) Valid() bool {
	switch o.Level {
	case LevelOrg:
		return o.Name != "" && !strings.Contains(o.Name, "/")
	case LevelRepo:
		org, repo, ok := strings.Cut(o.Name, "/")
		return ok && org != "" && repo != "" && !strings.Contains(repo, "/")
	}
	return false
}

func (o Owner) String() string { return o.Level + ":" + o.Name }

// Account is the owner's account login: the organization, or the repository's owner. An App
// is installed at most once per account, so it also names the installation.
func (o Owner) Account() string {
	account, _, _ := strings.Cut(o.Name, "/")
	return account
}

// Same reports whether a and b are the same owner, whatever installation each carries.
func (o Owner) Same(b Owner) bool { return o.Level == b.Level && o.Name == b.Name }
