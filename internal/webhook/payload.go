package webhook

import (
	"errors"
	"time"
)

// workflowJobEvent holds only what intake needs from a `workflow_job` payload. Decoding the
// whole go-github event struct would cost several times more and allocate hundreds of times.
type workflowJobEvent struct {
	Action      string `json:"action"`
	WorkflowJob *struct {
		ID            int64     `json:"id"`
		RunID         int64     `json:"run_id"`
		Labels        []string  `json:"labels"`
		RunnerID      int64     `json:"runner_id"`
		RunnerName    string    `json:"runner_name"`
		RunnerGroupID int64     `json:"runner_group_id"`
		Conclusion    string    `json:"conclusion"`
		CreatedAt     time.Time `json:"created_at"`
		StartedAt     time.Time `json:"started_at"`
	} `json:"workflow_job"`
	Repository *struct {
		FullName string `json:"full_name"`
		Owner    struct {
			Login string `json:"login"`
			Type  string `json:"type"`
		} `json:"owner"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

func (e *workflowJobEvent) validate() error {
	switch {
	case e.Action == "":
		return errors.New("action missing")
	case e.WorkflowJob == nil || e.WorkflowJob.ID <= 0:
		return errors.New("workflow_job.id missing")
	case e.Repository == nil || e.Repository.FullName == "" || e.Repository.Owner.Login == "":
		return errors.New("repository.full_name or repository.owner.login missing")
	}
	return nil
}

func (e *workflowJobEvent) installationID() int64 {
	if e.Installation == nil {
		return 0
	}
	return e.Installation.ID
}
