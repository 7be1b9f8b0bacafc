package scaledown

import (
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Owner is where runners are registered: an organization or one repository.
type Owner struct {
	Level string // tags.TypeOrg or tags.TypeRepo
	Name  string // "org" for org level, "org/repo" for repo level
}

// Valid reports whether the owner names a level and a name of the right shape.
func (o Owner) Valid() bool {
	switch o.Level {
	case tags.TypeOrg:
		return o.Name != "" && !strings.Contains(o.Name, "/")
	case tags.TypeRepo:
		org, repo, ok := strings.Cut(o.Name, "/")
		return ok && org != "" && repo != "" && !strings.Contains(repo, "/")
	}
	return false
}

func (o Owner) String() string { return o.Level + ":" + o.Name }

// Runner is one GitHub runner registration as the runner list shows it.
type Runner struct {
	ID     int64
	Name   string
	Online bool // status "online"
	Busy   bool
}

// Instance is one pending or running EC2 instance of this deployment.
type Instance struct {
	ID           string
	RunnerConfig string // ghr:runner-config
	Owner        Owner  // from ghr:type and ghr:owner; zero when untagged
	// RunnerID is the id of the registration scale-up made for it (tags.RunnerIDKey); 0 when
	// unknown (a persistent runner, or the tag call failed).
	RunnerID   int64
	CreatedBy  string // ghr:created-by
	LaunchTime time.Time
	// Registered says scale-up stored its registration (ghr:registered); LaunchDeadline is
	// its launching invocation's deadline (ghr:launch-deadline; zero when not recorded).
	Registered     bool
	LaunchDeadline time.Time
	// OrphanTag is the raw ghr:orphan value: "" when unmarked, else the RFC 3339 time of the
	// first phase.
	OrphanTag string
	Protected bool // ghr:protect present
}

// Token is one runner token parameter in SSM.
type Token struct {
	Name       string
	InstanceID string
	Modified   time.Time // when it was written; zero when unknown
}

// State is everything one reconcile pass decides on.
type State struct {
	Now              time.Time
	RunnerNamePrefix string
	Configs          map[string]*config.RunnerConfig
	Instances        []Instance
	// Runners holds the complete runner list of every owner listed this pass. An owner
	// missing here was not listed (or the list failed): its instances are left alone.
	Runners map[Owner][]Runner
	// Tokens is nil when token parameters were not listed this pass.
	Tokens []Token
	// Ended holds the instances of young tokens that EC2 lists as ended: their tokens will
	// never be read.
	Ended map[string]bool
}

// Removal deletes a registration and, once GitHub confirms, terminates its instance.
type Removal struct {
	Owner      Owner
	RunnerID   int64
	RunnerName string
	InstanceID string // "" for a ghost (no instance)
	Reason     string // ReasonIdle, ReasonOffline or ReasonGhost
}

// Removal reasons, logged as the decision.
const (
	ReasonIdle    = "idle"    // idle beyond the kept count and the minimum running time
	ReasonOffline = "offline" // registered, not busy, offline after boot: the runner died
	ReasonGhost   = "ghost"   // registration without a running instance
	ReasonOrphan  = "orphan"  // instance without a registration, second phase
)

// Plan is what one pass does.
type Plan struct {
	Removals     []Removal // GitHub DELETE first, then terminate on confirmation
	MarkOrphans  []string  // instance ids to tag ghr:orphan (first phase)
	ClearOrphans []string  // instance ids whose registration appeared: drop ghr:orphan
	Terminate    []string  // orphan instance ids to terminate now (second phase)
	DeleteTokens []string  // token parameter names whose instance is gone
}

// Empty reports whether the plan does nothing.
func (p *Plan) Empty() bool {
	return len(p.Removals)+len(p.MarkOrphans)+len(p.ClearOrphans)+len(p.Terminate)+len(p.DeleteTokens) == 0
}
