package simrunner

import "time"

// The runner protocol between Runner.Listener and ghsim.RunnerService (JSON over HTTP):
//
//	POST   /_runner/register                config.sh: RegisterRequest → Registration
//	POST   /_runner/sessions                run.sh: SessionRequest → SessionInfo
//	GET    /_runner/sessions/{id}/job       long poll: JobMessage, 204 (none yet) or 410 (gone)
//	POST   /_runner/sessions/{id}/renew     a running job's heartbeat (410: runner removed)
//	POST   /_runner/sessions/{id}/complete  CompleteRequest
//	DELETE /_runner/sessions/{id}           the runner stops

// RenewEvery is how often a runner running a job tells the service it is alive.
const RenewEvery = time.Second

// ConclusionSuccess is the conclusion of a job the simulated runner finished.
const ConclusionSuccess = "success"

// RegisterRequest is what config.sh sends.
type RegisterRequest struct {
	URL             string   `json:"url"`
	Token           string   `json:"token"`
	Name            string   `json:"name"`
	Labels          []string `json:"labels"`
	NoDefaultLabels bool     `json:"no_default_labels"`
	RunnerGroup     string   `json:"runner_group"`
	Ephemeral       bool     `json:"ephemeral"`
	Replace         bool     `json:"replace"`
}

// Registration is the answer: what config.sh writes to .runner and .credentials.
type Registration struct {
	AgentID   int64    `json:"agent_id"`
	AgentName string   `json:"agent_name"`
	PoolID    int64    `json:"pool_id"`
	Labels    []string `json:"labels"`
	ClientID  string   `json:"client_id"`
	Ephemeral bool     `json:"ephemeral"`
}

// SessionRequest opens a session: a configured runner's client id, or a JIT config's.
type SessionRequest struct {
	ClientID string `json:"client_id"`
	JIT      bool   `json:"jit"`
}

// SessionInfo is an open session.
type SessionInfo struct {
	SessionID string `json:"session_id"`
	AgentID   int64  `json:"agent_id"`
	AgentName string `json:"agent_name"`
	Ephemeral bool   `json:"ephemeral"`
}

// JobMessage is a job handed to a runner.
type JobMessage struct {
	JobID      int64  `json:"job_id"`
	RunID      int64  `json:"run_id"`
	Repo       string `json:"repo"`
	Name       string `json:"name"`
	DurationMS int64  `json:"duration_ms"`
}

// CompleteRequest finishes the current job.
type CompleteRequest struct {
	Conclusion string `json:"conclusion"`
}
