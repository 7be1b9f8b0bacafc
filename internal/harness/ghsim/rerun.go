package ghsim

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// GitHub's rules for re-running a job ("Re-running workflows and jobs" in GitHub's Actions
// docs), enforced by the simulator as by GitHub.
const (
	// rerunWindow: a workflow run, or jobs in it, can be re-run up to 30 days after the run
	// was first created.
	rerunWindow = 30 * 24 * time.Hour
	// maxRunAttempts: a workflow run can be re-run at most 50 times (run_attempt ≤ 50).
	maxRunAttempts = 50
	docRerun       = "https://docs.github.com/rest/actions/workflow-runs#re-run-a-job-from-a-workflow-run"
)

// Errors of RerunJob, each one of GitHub's refusals.
var (
	ErrRerunNotCompleted = errors.New("ghsim: only a completed job can be re-run")
	ErrRerunRunActive    = errors.New("ghsim: the workflow run is still in progress")
	ErrRerunSuperseded   = errors.New("ghsim: the job was already re-run; re-run its latest attempt")
	ErrRerunTooOld       = errors.New("ghsim: the workflow run is older than 30 days")
	ErrRerunTooMany      = errors.New("ghsim: the workflow run has reached its maximum number of attempts")
)

// RerunJob re-runs a completed job as GitHub's "Re-run job" does: a new job (new id, same
// run, run_attempt + 1) is queued with a new `queued` event, and the old one records it in
// RetriedBy. GitHub refuses while any job of the run is not completed, after 30 days, past
// 50 attempts, and for a job already re-run.
func (s *Sim) RerunJob(id int64) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	re, err := s.rerun(j)
	if err != nil {
		return Job{}, err
	}
	return re.snapshot(), nil
}

// rerun applies GitHub's rules and queues the new attempt. Caller holds mu.
func (s *Sim) rerun(j *job) (*job, error) {
	var created time.Time
	active := false
	for _, o := range s.jobs {
		if o.RunID != j.RunID || o.repo != j.repo {
			continue
		}
		if created.IsZero() || o.QueuedAt.Before(created) {
			created = o.QueuedAt
		}
		if o.Status != StatusCompleted {
			active = true
		}
	}
	switch {
	case j.Status != StatusCompleted:
		return nil, ErrRerunNotCompleted
	case j.RetriedBy != 0:
		return nil, ErrRerunSuperseded
	case active:
		return nil, ErrRerunRunActive
	case s.now().Sub(created) > rerunWindow:
		return nil, ErrRerunTooOld
	case j.Attempt >= maxRunAttempts:
		return nil, ErrRerunTooMany
	}
	re := s.addJob(j.repo, Job{RunID: j.RunID, Attempt: j.Attempt + 1, Labels: slices.Clone(j.Labels),
		Name: j.Name, Workflow: j.Workflow, Duration: j.Duration})
	j.RetriedBy = re.ID
	return re, nil
}

// POST /repos/{owner}/{repo}/actions/jobs/{id}/rerun: 201 with an empty object; GitHub's
// refusals are 403, and so is an App without Actions: write (Options.AppPermissions).
func (s *Sim) rerunJob(w http.ResponseWriter, r *http.Request, id identity) {
	jid, ok := pathID(w, r, docRerun)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.scopeOf(LevelRepo)(w, r, id)
	if !ok {
		return
	}
	if s.opts.AppPermissions["actions"] != "write" {
		writeError(w, http.StatusForbidden, msgNotAccessible, docRerun)
		return
	}
	j, ok := s.jobs[jid]
	if !ok || !strings.EqualFold(j.Repo, sc.name) {
		writeError(w, http.StatusNotFound, msgNotFound, docRerun)
		return
	}
	if _, err := s.rerun(j); err != nil {
		writeError(w, http.StatusForbidden, strings.TrimPrefix(err.Error(), "ghsim: "), docRerun)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{})
}
