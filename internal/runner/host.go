package runner

import "time"

// Host is one live (booting or running) runner host of this deployment as its compute
// provider reports it: an EC2 instance or an ECS task. The provider proved it is the
// deployment's own (launch template id, task definition), so callers may act on it.
type Host struct {
	ID     string // instance id, or the task's id
	Config string // key of the runner config that launched it
	Owner  Owner  // zero when unrecorded
	// JobIDs are the ascending ids of the jobs its launch was for; nil for pool hosts.
	JobIDs []int64
	// RunnerID is the id of the registration scale-up made for it; 0 when unknown (a
	// persistent runner, or the mark after registration failed).
	RunnerID   int64
	CreatedBy  string // tags.CreatedByScaleUp or tags.CreatedByPool
	LaunchTime time.Time
	// Registered: its registration was stored (Provider.MarkRegistered).
	Registered bool
	// Deadline is that of the invocation that launched it (zero: not recorded): until then an
	// unregistered host may still be registered, after it never will be.
	Deadline time.Time
	// OrphanTag is the raw ghr:orphan value: "" when unmarked, else the RFC 3339 time of the
	// first phase of its removal.
	OrphanTag string
	Protected bool // operators' opt-out from any removal
}

// RegisteredHost is a host whose registration is stored.
type RegisteredHost struct {
	ID       string
	RunnerID int64 // 0 when GitHub did not return one (registration tokens)
	// StoredAt is when its JIT config (or registration token) was stored for it to read.
	StoredAt time.Time
}

// Registration is one GitHub runner registration as GitHub's runner list shows it.
type Registration struct {
	ID     int64
	Name   string
	Online bool // status "online"
	Busy   bool
}
