// Package webhook is ghr's intake: it verifies GitHub's signature, decodes only the fields it
// needs, matches the job to a runner config and enqueues one small versioned message.
//
// Status codes (GitHub records anything but 2xx as a failed delivery, which the redeliver
// function retries):
//
//	401 missing or wrong X-Hub-Signature-256     413 body over the configured limit
//	400 valid signature but malformed payload    405 not a POST
//	200 ping                                     202 accepted, or acknowledged and ignored
//	503 enqueueing failed (retry later)          415 content type other than JSON or form
//
// Both content types GitHub offers are accepted: application/json, and
// application/x-www-form-urlencoded whose payload= field holds the same JSON. The signature
// covers the raw body either way.
//
// Echoes are bounded: an answer or log line carries at most a short, truncated form of any
// input (brief), and a 400 names the field at fault, never an internal Go type.
//
// Idempotency: intake is stateless and queues are standard SQS queues (FIFO queues would
// forbid the batching window and cap throughput per group). Scale-up guarantees one runner
// per job; see docs/decisions.md and the internal/scaleup package comment.
package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/tags"
)

// enqueueTimeout bounds the SQS send: GitHub gives up on a delivery after 10 s, and a late
// success would be recorded as a failure and redelivered.
const enqueueTimeout = 5 * time.Second

// DefaultMaxBody is the default body limit: workflow_job payloads are ~8-15 KB; GitHub caps
// payloads at 25 MB, which we never need to hash.
const DefaultMaxBody = 1 << 20

// Sender puts a message on an SQS queue.
type Sender interface {
	Send(ctx context.Context, queueURL string, body []byte) error
}

// Request is a transport-neutral webhook request. Header names are matched
// case-insensitively.
type Request struct {
	Method          string
	Headers         map[string]string
	Body            string
	IsBase64Encoded bool
	RequestID       string
	SourceIP        string // the client's address as API Gateway saw it
	// ReceivedAt is when API Gateway received the delivery (zero: when Handle starts). It is
	// logged as the first milestone of the job's path (logging.KeyReceivedAt).
	ReceivedAt time.Time
}

// Response is what intake answers.
type Response struct {
	Status int
	Body   []byte
}

// Intake decides and enqueues. Build one per container with New.
type Intake struct {
	secret       []byte
	configs      []config.RunnerConfig
	allow        Allowlist
	sources      SourceRanges
	lifecycleURL string
	runnerPrefix string
	maxBody      int
	sender       Sender
	log          *slog.Logger
	metrics      *metrics.Recorder
	now          func() time.Time
}

// Options configure an Intake.
type Options struct {
	Secret        []byte
	RunnerConfigs []config.RunnerConfig // sorted by priority (config.ParseRunnerConfigs does)
	Allowlist     []string
	// SourceRanges are the CIDR ranges requests may come from (GitHub's `hooks` in GET
	// /meta); empty admits every source.
	SourceRanges      []string
	LifecycleQueueURL string
	// RunnerNamePrefix picks the in_progress and completed jobs that travel to the lifecycle queue: those
	// whose runner name is this prefix and an instance id. Required with a lifecycle queue.
	RunnerNamePrefix string
	MaxBodyBytes     int
	Sender           Sender
	Logger           *slog.Logger
	Metrics          *metrics.Recorder // nil records nothing
	Now              func() time.Time
}

// New validates options and builds an Intake.
func New(o Options) (*Intake, error) {
	if len(o.Secret) == 0 {
		return nil, errors.New("webhook: secret is empty")
	}
	if o.Sender == nil {
		return nil, errors.New("webhook: no sender")
	}
	if o.LifecycleQueueURL != "" && o.RunnerNamePrefix == "" {
		return nil, errors.New("webhook: a lifecycle queue needs the runner name prefix")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBody
	}
	sources, err := ParseSourceRanges(o.SourceRanges)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Intake{
		secret: o.Secret, configs: o.RunnerConfigs, allow: NewAllowlist(o.Allowlist), sources: sources,
		lifecycleURL: o.LifecycleQueueURL, runnerPrefix: o.RunnerNamePrefix, maxBody: o.MaxBodyBytes, sender: o.Sender,
		log: o.Logger, metrics: o.Metrics, now: o.Now,
	}, nil
}

// Decision is the outcome of the pure part of intake: what to answer and what, if
// anything, to enqueue where.
type Decision struct {
	Status       int
	Reason       string
	Event        string
	DeliveryID   string
	JobID        int64
	Owner        string
	RunnerConfig string
	QueueURL     string // "" when nothing is enqueued
	Message      []byte
	// QueueWait is how long a job of one of our runner configs waited for a runner (queued →
	// in_progress); Started tells it was measured.
	QueueWait time.Duration
	Started   bool
}

// Handle decides, enqueues and logs one request.
func (in *Intake) Handle(ctx context.Context, req Request) Response {
	received := req.ReceivedAt
	if received.IsZero() {
		received = in.now()
	}
	d := in.Decide(req)
	log := in.log.With(logging.KeyRequestID, req.RequestID, logging.KeyDeliveryID, d.DeliveryID)
	if d.JobID != 0 {
		log = log.With(logging.KeyJobID, d.JobID, logging.KeyOwner, d.Owner, logging.KeyReceivedAt, received)
	}
	if d.QueueURL != "" {
		sctx, cancel := context.WithTimeout(ctx, enqueueTimeout)
		err := in.sender.Send(sctx, d.QueueURL, d.Message)
		cancel()
		if err == nil {
			log = log.With(logging.KeyEnqueuedAt, in.now())
		} else {
			log.Error("enqueue failed", "event", d.Event, logging.KeyRunnerConfig, d.RunnerConfig, logging.KeyError, err.Error())
			in.metrics.Add(metrics.WebhookRejected, 1, strconv.Itoa(http.StatusServiceUnavailable))
			return jsonResponse(http.StatusServiceUnavailable, "error", "enqueue failed; retry the delivery")
		}
	}
	lvl := slog.LevelInfo
	if d.Status >= 400 {
		lvl = slog.LevelWarn
		in.metrics.Add(metrics.WebhookRejected, 1, strconv.Itoa(d.Status))
	}
	if d.QueueURL != "" && d.QueueURL != in.lifecycleURL {
		in.metrics.Add(metrics.JobsReceived, 1, d.RunnerConfig)
	}
	if d.Started {
		in.metrics.Duration(metrics.QueueWait, d.QueueWait, d.RunnerConfig)
	}
	log.Log(ctx, lvl, "webhook", "event", d.Event, "status", d.Status, logging.KeyDecision, d.Reason, logging.KeyRunnerConfig, d.RunnerConfig)
	return in.respond(d)
}

func (in *Intake) respond(d Decision) Response {
	switch {
	case d.Status >= 400:
		return jsonResponse(d.Status, "error", d.Reason)
	case d.RunnerConfig != "" && d.Event == "workflow_job":
		b, _ := json.Marshal(struct {
			Accepted     bool   `json:"accepted"`
			RunnerConfig string `json:"runner_config"`
			JobID        int64  `json:"job_id"`
		}{true, d.RunnerConfig, d.JobID})
		return Response{Status: d.Status, Body: b}
	default:
		return jsonResponse(d.Status, "message", d.Reason)
	}
}

func jsonResponse(status int, key, msg string) Response {
	b, _ := json.Marshal(map[string]string{key: msg})
	return Response{Status: status, Body: b}
}

// Decide is intake without I/O: verify, parse, match and build the message.
func (in *Intake) Decide(req Request) Decision {
	d := Decision{Event: brief(header(req.Headers, "X-GitHub-Event")), DeliveryID: brief(header(req.Headers, "X-GitHub-Delivery"))}
	if !in.sources.Allows(req.SourceIP) {
		return d.reject(http.StatusForbidden, "source address is not in the allowed webhook ranges")
	}
	if req.Method != "" && req.Method != http.MethodPost {
		return d.reject(http.StatusMethodNotAllowed, "only POST is accepted")
	}
	body, status, err := in.body(req)
	if err != nil {
		return d.reject(status, err.Error())
	}
	if err := in.verify(header(req.Headers, "X-Hub-Signature-256"), body); err != nil {
		return d.reject(http.StatusUnauthorized, err.Error())
	}
	body, status, err = payload(header(req.Headers, "Content-Type"), body)
	if err != nil {
		return d.reject(status, err.Error())
	}
	switch d.Event {
	case "":
		return d.reject(http.StatusBadRequest, "X-GitHub-Event header missing")
	case "ping":
		d.Status, d.Reason = http.StatusOK, "pong"
		return d
	case "workflow_job":
		return in.workflowJob(d, body)
	default:
		d.Status, d.Reason = http.StatusAccepted, "event "+d.Event+" ignored"
		return d
	}
}

func (d Decision) reject(status int, reason string) Decision {
	d.Status, d.Reason = status, reason
	return d
}

func (in *Intake) body(req Request) ([]byte, int, error) {
	if !req.IsBase64Encoded {
		if len(req.Body) > in.maxBody {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", in.maxBody)
		}
		return []byte(req.Body), 0, nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > in.maxBody+2 {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", in.maxBody)
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("body is not valid base64")
	}
	if len(b) > in.maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", in.maxBody)
	}
	return b, 0, nil
}

// verify checks X-Hub-Signature-256 with go-github's constant-time validation. Only SHA-256
// is accepted: go-github would also take the SHA-1 header, a downgrade we refuse.
func (in *Intake) verify(sig string, body []byte) error {
	if !strings.HasPrefix(sig, "sha256=") {
		return errors.New("X-Hub-Signature-256 missing or not sha256")
	}
	if err := github.ValidateSignature(sig, body, in.secret); err != nil {
		return errors.New("signature mismatch")
	}
	return nil
}

func (in *Intake) workflowJob(d Decision, body []byte) Decision {
	var ev workflowJobEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return d.reject(http.StatusBadRequest, jsonError(err))
	}
	if err := ev.validate(); err != nil {
		return d.reject(http.StatusBadRequest, err.Error())
	}
	job, repo := ev.WorkflowJob, ev.Repository
	d.JobID, d.Owner = job.ID, brief(repo.Owner.Login)
	if !in.allow.Allows(repo.FullName) {
		d.Status, d.Reason = http.StatusAccepted, "not accepted: repository "+brief(repo.FullName)+" is not in the allow-list"
		return d
	}
	switch ev.Action {
	case "queued":
		return in.queued(d, &ev)
	case queue.ActionInProgress:
		if cfg := Match(in.configs, job.Labels); cfg != nil {
			d.RunnerConfig, d.Started = cfg.Key, true
			d.QueueWait = max(job.StartedAt.Sub(job.CreatedAt), 0)
		}
		// Counted for the metrics, and sent to clean-up when one of our runners took the
		// job: clean-up records on the instance which job its runner took, which is how a
		// launch's re-check knows its job started without asking GitHub (internal/reconcile).
		return in.lifecycle(d, &ev)
	case queue.ActionCompleted:
		return in.lifecycle(d, &ev)
	default:
		d.Status, d.Reason = http.StatusAccepted, "action "+brief(ev.Action)+" ignored"
		return d
	}
}

func (in *Intake) queued(d Decision, ev *workflowJobEvent) Decision {
	job, repo := ev.WorkflowJob, ev.Repository
	cfg := Match(in.configs, job.Labels)
	if cfg == nil {
		d.Status, d.Reason = http.StatusAccepted, "not accepted: no runner config matches labels "+briefList(job.Labels)
		return d
	}
	level, owner := queue.LevelRepo, repo.FullName
	if cfg.Level == queue.LevelOrg && repo.Owner.Type == "Organization" {
		level, owner = queue.LevelOrg, repo.Owner.Login
		// The allow-list admitted full_name, but an org runner registers under owner.login:
		// the entry must cover that account too, or a payload naming an admitted
		// repository under another owner would put a runner into an org no entry covers.
		_, name, _ := strings.Cut(repo.FullName, "/")
		if !in.allow.Allows(owner + "/" + name) {
			d.Status, d.Reason = http.StatusAccepted, "not accepted: runner owner "+brief(owner)+" is not in the allow-list"
			return d
		}
	}
	queuedAt := job.CreatedAt
	if queuedAt.IsZero() {
		queuedAt = in.now().UTC()
	}
	msg, err := json.Marshal(&queue.Job{
		V: queue.Version, JobID: job.ID, RunID: job.RunID, Repo: repo.FullName, Owner: owner,
		OwnerType: repo.Owner.Type, Level: level, InstallationID: ev.installationID(),
		Labels: job.Labels, DeliveryID: d.DeliveryID, QueuedAt: queuedAt, RunnerConfig: cfg.Key,
	})
	if err != nil {
		return d.reject(http.StatusInternalServerError, "encode message: "+err.Error())
	}
	d.Status, d.Reason, d.Owner = http.StatusAccepted, "accepted", brief(owner)
	d.RunnerConfig, d.QueueURL, d.Message = cfg.Key, cfg.QueueURL, msg
	return d
}

func (in *Intake) lifecycle(d Decision, ev *workflowJobEvent) Decision {
	if in.lifecycleURL == "" {
		d.Status, d.Reason = http.StatusAccepted, "action "+ev.Action+" acknowledged; no lifecycle queue"
		return d
	}
	job, repo := ev.WorkflowJob, ev.Repository
	// Only our runners' jobs need clean-up: GitHub-hosted and other tools' jobs would only
	// cost a queue message and an invocation each.
	if _, ours := tags.InstanceIDFromRunnerName(in.runnerPrefix, job.RunnerName); !ours {
		d.Status, d.Reason = http.StatusAccepted, "action "+ev.Action+" acknowledged; not this deployment's runner"
		return d
	}
	msg, err := json.Marshal(&queue.Lifecycle{
		V: queue.Version, Action: ev.Action, JobID: job.ID, RunID: job.RunID, Repo: repo.FullName,
		Owner: repo.Owner.Login, OwnerType: repo.Owner.Type, InstallationID: ev.installationID(),
		Labels: job.Labels, RunnerID: job.RunnerID, RunnerName: job.RunnerName,
		RunnerGroupID: job.RunnerGroupID, Conclusion: job.Conclusion, DeliveryID: d.DeliveryID,
		At: in.now().UTC(),
	})
	if err != nil {
		return d.reject(http.StatusInternalServerError, "encode message: "+err.Error())
	}
	d.Status, d.Reason = http.StatusAccepted, "action "+ev.Action+" sent to lifecycle queue"
	d.QueueURL, d.Message = in.lifecycleURL, msg
	return d
}

// header finds name case-insensitively: API Gateway lower-cases header names, other callers
// may not.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	if v, ok := h[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
