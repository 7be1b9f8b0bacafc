package ops

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Queue is one SQS queue of the deployment.
type Queue struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Kind     string `json:"kind"`             // build or lifecycle
	Config   string `json:"config,omitempty"` // build queues
	DLQ      bool   `json:"dlq"`
	Visible  int    `json:"visible"`
	InFlight int    `json:"in_flight"`
	Delayed  int    `json:"delayed"`
}

// ConfigRunners counts one runner config's instances by state.
type ConfigRunners struct {
	Config     string `json:"config"`
	Pending    int    `json:"pending"`
	Running    int    `json:"running"`
	Registered int    `json:"registered"` // ghr:registered set: the runner has its registration
	Protected  int    `json:"protected"`
	Orphaned   int    `json:"orphaned"` // marked by scale-down's first orphan phase
	Drained    bool   `json:"drained"`
	// OldestInstance is the age of the config's oldest live instance: a persistent runner,
	// or an ephemeral one stuck on its job.
	OldestInstance time.Duration `json:"oldest_instance_ns"`
}

// Status is what `ghr status` shows.
type Status struct {
	Deployment string          `json:"deployment"`
	At         time.Time       `json:"at"`
	Queues     []Queue         `json:"queues"`
	Runners    []ConfigRunners `json:"runners"`
	Instances  int             `json:"instances"`
	Drain      string          `json:"drain"` // the switch's value: "" none, "*" all, else config keys
	// Waiting is the number of jobs in build queues, none of them served yet: visible, delayed
	// (sent back to wait) and in flight (scale-up launching for them; a message leaves its
	// queue only once its runner is launched and registered).
	Waiting int `json:"waiting"`
	// DeadLetters is the number of messages in dead-letter queues.
	DeadLetters int `json:"dead_letters"`
	// OldestWaiting is the oldest job waiting for a runner; nil when none waits or no
	// metric has seen it yet.
	OldestWaiting *WaitingJob `json:"oldest_waiting,omitempty"`
	// GitHub is the App's budget as the functions spend it.
	GitHub GitHubState `json:"github"`
	// LastScaleDown is what the latest scale-down pass recorded; nil before the first.
	LastScaleDown *scaledown.PassRecord `json:"last_scale_down,omitempty"`
	// Unread names what could not be read (e.g. no permission): the rest is still shown.
	Unread []string `json:"unread,omitempty"`
}

// Status reads queues, instances, the drain switch and the last scale-down pass, then the
// metrics and function settings behind the oldest waiting job and the GitHub budget. Nothing
// here touches the functions' own path: each fact is read where they already leave it.
func (d *Deployment) Status(ctx context.Context) (*Status, error) {
	st, err := d.core(ctx)
	if err != nil {
		return nil, err
	}
	if st.LastScaleDown, err = d.lastPass(ctx); err != nil {
		st.Unread = append(st.Unread, err.Error())
	}
	if d.Lambda != nil {
		if st.GitHub.Budgets, err = d.budgets(ctx); err != nil {
			st.Unread = append(st.Unread, err.Error())
		}
	}
	if d.CloudWatch != nil {
		st.GitHub.Window = githubWindow
		if err := d.fromMetrics(ctx, st); err != nil {
			st.Unread = append(st.Unread, err.Error())
		}
		if st.Waiting == 0 {
			st.OldestWaiting = nil // a sample from a job that has since started
		}
	}
	return st, nil
}

// core reads queues, instances and the drain switch: without them there is no status.
func (d *Deployment) core(ctx context.Context) (*Status, error) {
	st := &Status{Deployment: d.Prefix, At: d.now().UTC()}
	qs, err := d.Queues(ctx)
	if err != nil {
		return nil, err
	}
	st.Queues = qs
	for _, q := range qs {
		switch {
		case q.DLQ:
			st.DeadLetters += q.Visible + q.InFlight + q.Delayed
		case q.Kind == KindBuild:
			st.Waiting += q.Visible + q.InFlight + q.Delayed
		}
	}
	templates, err := d.launchTemplates(ctx)
	if err != nil {
		return nil, err
	}
	insts, err := ec2fleet.List(ctx, d.EC2, ec2fleet.Filter{Environment: d.Prefix, LaunchTemplates: templates})
	if err != nil {
		return nil, err
	}
	st.Instances = len(insts)
	drained, err := d.Drained(ctx)
	if err != nil {
		return nil, err
	}
	st.Drain = drained.String()
	byConfig := map[string]*ConfigRunners{}
	row := func(k string) *ConfigRunners {
		if byConfig[k] == nil {
			byConfig[k] = &ConfigRunners{Config: k, Drained: drained.Drained(k)}
		}
		return byConfig[k]
	}
	for _, q := range qs {
		if q.Kind == KindBuild {
			row(q.Config)
		}
	}
	for _, in := range insts {
		r := row(in.Tags[tags.RunnerConfig])
		if in.State == "pending" {
			r.Pending++
		} else {
			r.Running++
		}
		if in.Tags[tags.Registered] != "" {
			r.Registered++
		}
		if _, ok := in.Tags[tags.Protect]; ok {
			r.Protected++
		}
		if in.Tags[tags.Orphan] != "" {
			r.Orphaned++
		}
		r.OldestInstance = max(r.OldestInstance, st.At.Sub(in.LaunchTime))
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range byConfig {
			if !yield(k) {
				return
			}
		}
	}) {
		st.Runners = append(st.Runners, *byConfig[k])
	}
	return st, nil
}

// Queues lists the deployment's queues with their depths.
func (d *Deployment) Queues(ctx context.Context) ([]Queue, error) {
	var out []Queue
	in := &sqs.ListQueuesInput{QueueNamePrefix: aws.String(d.Prefix + "-")}
	for {
		page, err := d.SQS.ListQueues(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list queues: %w", err)
		}
		for _, url := range page.QueueUrls {
			name := url[strings.LastIndexByte(url, '/')+1:]
			kind, cfg, dlq, ok := d.queueRole(name)
			if !ok {
				continue
			}
			q := Queue{Name: name, URL: url, Kind: kind, Config: cfg, DLQ: dlq}
			attrs, err := d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
			}})
			if err != nil {
				return nil, fmt.Errorf("queue %s: %w", name, err)
			}
			n := func(a sqstypes.QueueAttributeName) int { v, _ := strconv.Atoi(attrs.Attributes[string(a)]); return v }
			q.Visible = n(sqstypes.QueueAttributeNameApproximateNumberOfMessages)
			q.InFlight = n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
			q.Delayed = n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)
			out = append(out, q)
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	slices.SortFunc(out, func(a, b Queue) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
