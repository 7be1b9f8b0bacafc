package ghsim

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Job statuses and the conclusions the simulator produces.
const (
	StatusQueued     = "queued"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"

	ConclusionSuccess   = "success"
	ConclusionFailure   = "failure"
	ConclusionCancelled = "cancelled"
)

// JobSpec describes a workflow job to queue.
type JobSpec struct {
	Repo     string        // "owner/name"; must exist
	Labels   []string      // runs-on labels; at least one
	Duration time.Duration // how long the host should run it (carried to the host, not enforced)
	Name     string        // default "build"
	Workflow string        // default "CI"
	RunID    int64         // 0 starts a new workflow run
}

// Job is a workflow job as the test bed sees it.
type Job struct {
	ID             int64
	RunID          int64
	Attempt        int
	Repo           string
	Labels         []string
	Name           string
	Workflow       string
	Duration       time.Duration
	Status         string
	Conclusion     string
	QueuedAt       time.Time
	StartedAt      time.Time // zero until a runner takes it
	CompletedAt    time.Time
	RunnerID       int64
	RunnerName     string
	RunnerGroupID  int64
	RunnerOnlineAt time.Time // when the runner that took it came online
	InstallationID int64     // 0 when the App is not installed on the repository
	RetriedBy      int64     // the re-run's job id, after a lost runner with RetryLostJobs
}

type job struct {
	Job
	repo      *repo
	groupName string
	seq       int64 // queue order
}

func (j *job) snapshot() Job {
	out := j.Job
	out.Labels = slices.Clone(j.Labels)
	return out
}

// QueueJob creates a queued job, emits `workflow_job` `queued`, and hands it to an idle
// runner that can take it, if any (GitHub then emits `in_progress`).
func (s *Sim) QueueJob(spec JobSpec) (Job, error) {
	if len(spec.Labels) == 0 {
		return Job{}, errors.New("ghsim: a job needs at least one label")
	}
	if spec.Name == "" {
		spec.Name = "build"
	}
	if spec.Workflow == "" {
		spec.Workflow = "CI"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[strings.ToLower(spec.Repo)]
	if !ok {
		return Job{}, fmt.Errorf("repository %s: %w", spec.Repo, ErrNotFound)
	}
	runID := spec.RunID
	if runID == 0 {
		s.nextRun++
		runID = s.nextRun
	}
	j := s.addJob(r, Job{RunID: runID, Attempt: 1, Labels: slices.Clone(spec.Labels), Name: spec.Name,
		Workflow: spec.Workflow, Duration: spec.Duration})
	return j.snapshot(), nil
}

// addJob queues a job, emits queued and dispatches. Caller holds mu.
func (s *Sim) addJob(r *repo, tmpl Job) *job {
	s.nextJob++
	s.nextID++
	j := &job{Job: tmpl, repo: r, seq: s.nextID}
	j.ID, j.Repo, j.Status, j.QueuedAt = s.nextJob, r.FullName, StatusQueued, s.now()
	if in := s.repoInstallation(s.opts.AppID, r); in != nil { // the App whose webhook tells of the job
		j.InstallationID = in.ID
	}
	s.jobs[j.ID] = j
	s.queue = append(s.queue, j.ID)
	s.emitJob(j, StatusQueued)
	s.dispatch()
	return j
}

// CancelJob cancels a queued job (`completed` with conclusion cancelled, no runner).
func (s *Sim) CancelJob(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if j.Status != StatusQueued {
		return fmt.Errorf("ghsim: job %d is %s, only a queued job can be cancelled", id, j.Status)
	}
	s.finishJob(j, ConclusionCancelled)
	return nil
}

// Job returns one job.
func (s *Sim) Job(id int64) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job{}, false
	}
	return j.snapshot(), true
}

// Jobs returns every job, oldest first.
func (s *Sim) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j.snapshot())
	}
	slices.SortFunc(out, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// JobCounts returns how many jobs are queued, in progress and completed.
func (s *Sim) JobCounts() (queued, running, completed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		switch j.Status {
		case StatusQueued:
			queued++
		case StatusInProgress:
			running++
		default:
			completed++
		}
	}
	return queued, running, completed
}

// dispatch gives queued jobs, oldest first, to idle online runners that can take them,
// longest idle first. Caller holds mu.
func (s *Sim) dispatch() {
	if len(s.queue) == 0 {
		return
	}
	var idle []*runner
	for _, r := range s.runners {
		if r.online && !r.busy && r.conn != nil && !r.conn.ended {
			idle = append(idle, r)
		}
	}
	if len(idle) == 0 {
		return
	}
	slices.SortFunc(idle, func(a, b *runner) int { return cmp.Compare(a.idleSeq, b.idleSeq) })
	left := make([]int64, 0, len(s.queue))
	for _, id := range s.queue {
		j := s.jobs[id]
		if j.Status != StatusQueued {
			continue
		}
		i := slices.IndexFunc(idle, func(r *runner) bool { return s.canRun(r, j) })
		if i < 0 {
			left = append(left, id)
			continue
		}
		s.startJob(j, idle[i])
		idle = slices.Delete(idle, i, i+1)
	}
	s.queue = left
}

// canRun is GitHub's routing rule: the runner is registered where the job's repository can
// use it (the repository itself, or its organization; every group is visible to every
// repository here) and its labels include all the job's labels, ignoring case.
func (s *Sim) canRun(r *runner, j *job) bool {
	switch r.scope.level {
	case LevelRepo:
		if !strings.EqualFold(r.scope.name, j.repo.FullName) {
			return false
		}
	case LevelOrg:
		if j.repo.Owner.Type != TypeOrganization || !strings.EqualFold(r.scope.name, j.repo.Owner.Login) {
			return false
		}
	}
	for _, want := range j.Labels {
		if !slices.ContainsFunc(r.labels, func(l label) bool { return strings.EqualFold(l.name, want) }) {
			return false
		}
	}
	return true
}

// startJob assigns j to r and emits in_progress. Caller holds mu.
func (s *Sim) startJob(j *job, r *runner) {
	j.Status, j.StartedAt = StatusInProgress, s.now()
	j.RunnerID, j.RunnerName, j.RunnerGroupID, j.groupName = r.id, r.name, r.groupID, s.groupName(r)
	j.RunnerOnlineAt = r.onlineAt
	r.busy, r.jobID = true, j.ID
	r.conn.offer(j.ID)
	s.emitJob(j, StatusInProgress)
}

func (s *Sim) groupName(r *runner) string {
	if r.scope.level == LevelOrg {
		for _, g := range s.groups[strings.ToLower(r.scope.name)] {
			if g.ID == r.groupID {
				return g.Name
			}
		}
	}
	return "Default"
}

// finishJob completes j and emits completed. Caller holds mu.
func (s *Sim) finishJob(j *job, conclusion string) {
	j.Status, j.Conclusion, j.CompletedAt = StatusCompleted, conclusion, s.now()
	s.emitJob(j, StatusCompleted)
}

// loseJob fails the job of a runner that went away mid-job, as GitHub does once it gives up
// on the runner, and re-runs it with Options.RetryLostJobs. Caller holds mu.
func (s *Sim) loseJob(jobID, runnerID int64) {
	j, ok := s.jobs[jobID]
	if !ok || j.Status != StatusInProgress || j.RunnerID != runnerID {
		return
	}
	if r, ok := s.runners[runnerID]; ok && r.jobID == jobID {
		r.busy, r.jobID = false, 0
	}
	s.finishJob(j, ConclusionFailure)
	if s.opts.RetryLostJobs {
		re := s.addJob(j.repo, Job{RunID: j.RunID, Attempt: j.Attempt + 1, Labels: slices.Clone(j.Labels),
			Name: j.Name, Workflow: j.Workflow, Duration: j.Duration})
		j.RetriedBy = re.ID
	}
}
