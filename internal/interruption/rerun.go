package interruption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/tags"
)

// ConclusionFailure is how GitHub concludes a job whose runner was lost or deregistered.
const ConclusionFailure = "failure"

// ErrRerunRefused is GitHub's 403 on a re-run: the job cannot be re-run (already re-run,
// the run still has active jobs, too old, too many attempts). Retrying the same request does
// not change GitHub's answer within the lifecycle queue's retries, so it is logged, not retried.
var ErrRerunRefused = errors.New("github refused the re-run")

// JobRerunner asks GitHub to re-run one job.
type JobRerunner interface {
	RerunJob(ctx context.Context, repo string, jobID int64) error
}

// Rerunner re-runs a job that failed because its spot instance was interrupted: once per
// interrupted instance, and only when the failed job ran on that instance's own registration.
type Rerunner struct {
	Store   Store
	GitHub  JobRerunner
	Log     *slog.Logger
	Metrics *metrics.Recorder // nil records nothing
	Now     func() time.Time  // nil uses time.Now
}

// Reasons ShouldRerun gives, logged.
const (
	rerunYes       = "rerun"
	rerunNotFailed = "not_failed"
	rerunNoRecord  = "not_interrupted"
	rerunDone      = "already_rerun"
	rerunNotProven = "identity_not_proven"
)

// ShouldRerun is the pure rule. The record's runner id and owner, read from the instance's
// tags when the warning came, must be the event's: a runner name alone proves nothing.
// A record re-runs one job; a retry of the same event (the re-run call failed) may try again.
func ShouldRerun(rec Record, recorded bool, ev queue.Lifecycle) (bool, string) {
	switch {
	case ev.Conclusion != ConclusionFailure:
		return false, rerunNotFailed
	case !recorded:
		return false, rerunNoRecord
	case rec.RunnerID <= 0 || rec.RunnerID != ev.RunnerID || !ownerMatches(rec, ev):
		return false, rerunNotProven
	case rec.Rerun != nil && rec.Rerun.JobID != ev.JobID:
		return false, rerunDone
	}
	return true, rerunYes
}

func ownerMatches(rec Record, ev queue.Lifecycle) bool {
	switch rec.OwnerLevel {
	case tags.TypeOrg:
		org, _, _ := strings.Cut(ev.Repo, "/")
		return strings.EqualFold(org, rec.Owner)
	case tags.TypeRepo:
		return strings.EqualFold(ev.Repo, rec.Owner)
	}
	return false
}

// JobFailed handles a completed event of a runner on instanceID. The marker is written
// before the re-run call, so scale-up launches the new attempt on on-demand however fast its
// queued event arrives; an error asks the lifecycle queue to deliver the event again.
func (r *Rerunner) JobFailed(ctx context.Context, ev queue.Lifecycle, instanceID string) error {
	if ev.Conclusion != ConclusionFailure {
		return nil // most completed events: no SSM read
	}
	rec, recorded, err := r.Store.Get(ctx, instanceID)
	if err != nil {
		return err
	}
	ok, reason := ShouldRerun(rec, recorded, ev)
	log := r.Log.With(logging.KeyInstanceID, instanceID, logging.KeyJobID, ev.JobID, "repo", ev.Repo, logging.KeyDecision, reason)
	if !ok {
		log.Info("failed job not re-run")
		return nil
	}
	if rec.Rerun == nil {
		now := time.Now()
		if r.Now != nil {
			now = r.Now()
		}
		rec.Rerun = &Rerun{Repo: ev.Repo, RunID: ev.RunID, JobID: ev.JobID, At: now}
		if err := r.Store.Put(ctx, rec); err != nil {
			return err
		}
	}
	err = r.GitHub.RerunJob(ctx, ev.Repo, ev.JobID)
	if errors.Is(err, ErrRerunRefused) {
		log.Error("interrupted job not re-run", logging.KeyError, err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	r.Metrics.Add(metrics.JobsRerun, 1, rec.Config)
	log.Info("interrupted job re-run on on-demand", logging.KeyRunnerConfig, rec.Config)
	return nil
}

// AppGitHub re-runs jobs with an installation token (Actions: write) of the App the set picks
// (githubapp.Choose), or of App when Apps is nil.
type AppGitHub struct {
	Apps *githubapp.Set
	App  *githubapp.App
}

var _ JobRerunner = AppGitHub{}

// RerunJob calls POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun.
func (g AppGitHub) RerunJob(ctx context.Context, repo string, jobID int64) error {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return fmt.Errorf("re-run job %d: repository %q is not owner/name", jobID, repo)
	}
	set := g.Apps
	if set == nil {
		set = githubapp.NewSet(g.App)
	}
	_, err := set.OwnerClient(repo, 0).Actions.RerunJobByID(ctx, owner, name, jobID)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden && er.Response.Header.Get("Retry-After") == "" &&
		er.Response.Header.Get("X-RateLimit-Remaining") != "0" {
		return fmt.Errorf("re-run job %d of %s: %w: %s", jobID, repo, ErrRerunRefused, er.Message)
	}
	if err != nil {
		return fmt.Errorf("re-run job %d of %s: %w", jobID, repo, err)
	}
	return nil
}
