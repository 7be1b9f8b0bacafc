package ops

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Runner is one runner instance of the deployment.
type Runner struct {
	InstanceID   string        `json:"instance_id"`
	Config       string        `json:"config"`
	Owner        string        `json:"owner"`
	State        string        `json:"state"` // pending, running; registered once ghr:registered is set
	Registered   bool          `json:"registered"`
	Protected    bool          `json:"protected"`
	Orphan       bool          `json:"orphan"`
	CreatedBy    string        `json:"created_by"`
	InstanceType string        `json:"instance_type"`
	Age          time.Duration `json:"age_ns"`
	Jobs         string        `json:"jobs"` // job ids the instance was launched for
}

// Runners lists the deployment's live instances, oldest first.
func (d *Deployment) Runners(ctx context.Context) ([]Runner, error) {
	templates, err := d.launchTemplates(ctx)
	if err != nil {
		return nil, err
	}
	insts, err := ec2fleet.List(ctx, d.EC2, ec2fleet.Filter{Environment: d.Prefix, LaunchTemplates: templates})
	if err != nil {
		return nil, err
	}
	now := d.now()
	out := make([]Runner, 0, len(insts))
	for _, in := range insts {
		_, protected := in.Tags[tags.Protect]
		out = append(out, Runner{
			InstanceID: in.ID, Config: in.Tags[tags.RunnerConfig], Owner: in.Tags[tags.Owner], State: in.State,
			Registered: in.Tags[tags.Registered] != "", Protected: protected, Orphan: in.Tags[tags.Orphan] != "",
			CreatedBy: in.Tags[tags.CreatedBy], InstanceType: in.InstanceType, Age: now.Sub(in.LaunchTime).Round(time.Second),
			Jobs: in.Tags[tags.JobID],
		})
	}
	slices.SortFunc(out, func(a, b Runner) int {
		if a.Age != b.Age {
			return int(b.Age - a.Age)
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
	return out, nil
}
