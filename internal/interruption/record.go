package interruption

import (
	"context"
	"time"
)

// Record is one interrupted instance, written when its spot warning arrives.
type Record struct {
	InstanceID string    `json:"instance_id"`
	Config     string    `json:"config"`      // ghr:runner-config
	OwnerLevel string    `json:"owner_level"` // ghr:type
	Owner      string    `json:"owner"`       // ghr:owner
	RunnerID   int64     `json:"runner_id"`   // from tags.RunnerIDKey; 0 when not registered
	At         time.Time `json:"at"`
	// Rerun is set once the interrupted job was re-run: the run and repository whose next
	// attempt scale-up launches on on-demand, and never a second re-run for this record.
	Rerun *Rerun `json:"rerun,omitempty"`
}

// Rerun is the job Rerunner re-ran for a record.
type Rerun struct {
	Repo  string    `json:"repo"`
	RunID int64     `json:"run_id"`
	JobID int64     `json:"job_id"` // the failed attempt's job
	At    time.Time `json:"at"`
}

// Store keeps records. SSMStore is the production one.
type Store interface {
	Put(ctx context.Context, r Record) error
	Get(ctx context.Context, instanceID string) (Record, bool, error)
	List(ctx context.Context) ([]Record, error)
	Delete(ctx context.Context, instanceIDs []string) error
}

// rerunOnDemandFor is how long after a re-run its run's next attempt is launched on
// on-demand: the re-run's queued event reaches scale-up within seconds, and a job still
// waiting after an hour is better served by whatever capacity exists.
const rerunOnDemandFor = time.Hour

// Expired returns the instance ids of records no rule needs any more at now: older than the
// breaker's retention and, once re-run, than rerunOnDemandFor after the re-run.
func Expired(recs []Record, b Breaker, now time.Time) []string {
	var out []string
	for _, r := range recs {
		keep := now.Sub(r.At) <= b.Retention()
		if r.Rerun != nil && now.Sub(r.Rerun.At) <= rerunOnDemandFor {
			keep = true
		}
		if !keep {
			out = append(out, r.InstanceID)
		}
	}
	return out
}
