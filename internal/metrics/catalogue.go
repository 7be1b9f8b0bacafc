package metrics

// Dimension names. Every metric also carries DimDeployment (the deployment prefix), so two
// deployments in one account never mix.
const (
	DimDeployment = "deployment"
	DimConfig     = "config"   // runner config key
	DimReason     = "reason"   // why a job was deferred/dropped or an instance terminated
	DimClass      = "class"    // error class (awserr.Class or a GitHub class)
	DimEndpoint   = "endpoint" // GitHub endpoint, "METHOD /path/{template}"
)

// Unit is a CloudWatch unit.
type Unit string

// Units used by ghr's metrics.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one CloudWatch metric: its name, unit, the dimensions it carries besides the
// deployment (values are passed to Add/Observe in this order), which function emits it and
// what it means. The catalogue below is the one list of ghr's metrics; docs/metrics.md is
// checked against it.
type Metric struct {
	Name     string
	Unit     Unit
	Dims     []string
	Function string
	Help     string
}

// The catalogue.
var (
	JobsReceived = Metric{"JobsReceived", Count, []string{DimConfig}, "webhook",
		"queued workflow jobs accepted and sent to their config's build queue"}
	WebhookRejected = Metric{"WebhookRejected", Count, []string{DimReason}, "webhook",
		"deliveries answered with a 4xx/5xx, by reason (HTTP status code)"}
	JobsLaunched = Metric{"JobsLaunched", Count, []string{DimConfig}, "scale-up",
		"jobs for which a runner was launched and registered"}
	JobsDeferred = Metric{"JobsDeferred", Count, []string{DimConfig, DimReason}, "scale-up",
		"jobs returned to the queue or re-sent with a delay, by reason (over_cap, deferred, requeued)"}
	JobsDropped = Metric{"JobsDropped", Count, []string{DimConfig, DimReason}, "scale-up",
		"jobs acknowledged without a launch, by reason (served, not_queued, duplicate, unknown_config, invalid)"}
	JobsExpired = Metric{"JobsExpired", Count, []string{DimConfig}, "scale-up",
		"jobs dropped because they waited past GitHub's queue limit"}
	JobsFailed = Metric{"JobsFailed", Count, []string{DimConfig, DimClass}, "scale-up",
		"jobs whose launch or registration failed (retried), by error class"}
	LaunchLatency = Metric{"LaunchLatency", Milliseconds, []string{DimConfig}, "scale-up",
		"job queued (webhook) → runner instance requested and registered"}
	WaitingJobAge = Metric{"WaitingJobAge", Milliseconds, []string{DimConfig}, "scale-up",
		"age (queued → now) of each job scale-up sent back to wait, one sample per job each time: a job waiting is seen at least once a minute (the longest requeue delay), so the Maximum over two minutes is the oldest waiting job"}
	QueueWait = Metric{"QueueWait", Milliseconds, []string{DimConfig}, "webhook",
		"job queued → a runner started it (in_progress event of a job matching a runner config), one sample per job"}
	JobsCompleted = Metric{"JobsCompleted", Count, []string{DimConfig}, "cleanup",
		"completed lifecycle events handled"}
	RunnersLive = Metric{"RunnersLive", Count, []string{DimConfig}, "scale-down",
		"runner instances alive at the end of a scale-down pass"}
	RunnersIdle = Metric{"RunnersIdle", Count, []string{DimConfig}, "scale-down",
		"runners online and idle in a scale-down pass"}
	RunnersBusy = Metric{"RunnersBusy", Count, []string{DimConfig}, "scale-down",
		"runners running a job in a scale-down pass"}
	InstancesTerminated = Metric{"InstancesTerminated", Count, []string{DimReason}, "cleanup, scale-down",
		"instances terminated, by reason"}
	PoolLaunched = Metric{"PoolLaunched", Count, []string{DimConfig}, "pool",
		"idle runners launched to top up a config's pool"}
	EC2Errors = Metric{"EC2Errors", Count, []string{DimClass}, "scale-up, pool",
		"EC2 launch errors, by awserr class (capacity, quota, throttling, invalid_config, other)"}
	GitHubRateLimitRemaining = Metric{"GitHubRateLimitRemaining", Count, nil, "every GitHub caller",
		"lowest primary rate-limit remaining GitHub reported during the invocation"}
	GitHubCalls = Metric{"GitHubCalls", Count, []string{DimEndpoint}, "every GitHub caller",
		"GitHub API requests sent, by endpoint"}
	GitHubPacingWaits = Metric{"GitHubPacingWaits", Count, []string{DimEndpoint}, "every GitHub caller",
		"requests our pacer delayed or refused to stay inside the secondary-limit budget, by endpoint"}
	GitHubRateLimited = Metric{"GitHubRateLimited", Count, []string{DimEndpoint}, "every GitHub caller",
		"rate-limit answers (403/429) from GitHub, by endpoint"}
	Redeliveries = Metric{"Redeliveries", Count, nil, "redeliver",
		"failed webhook deliveries GitHub was asked to redeliver"}
	SpotInterruptions = Metric{"SpotInterruptions", Count, []string{DimConfig}, "spot-interruption",
		"spot interruption warnings for runner instances"}
	JobsRerun = Metric{"JobsRerun", Count, []string{DimConfig}, "cleanup",
		"jobs lost with their spot instance and re-run through GitHub (once, on on-demand)"}
	JobsRelaunched = Metric{"JobsRelaunched", Count, []string{DimConfig}, "cleanup",
		"jobs a re-check found still queued with no runner of their launch left (host dead, or its runner took another job), sent again to their build queue"}
	JobsAbandoned = Metric{"JobsAbandoned", Count, []string{DimConfig, DimReason}, "cleanup",
		"jobs a re-check gave up on, logged at error level, by reason (checks_exhausted, relaunches_exhausted, older_than_github_keeps_a_job)"}
	RechecksUnscheduled = Metric{"RechecksUnscheduled", Count, []string{DimConfig}, "scale-up",
		"jobs launched whose re-check could not be sent to the lifecycle queue: nothing re-checks them if their host dies before taking them"}
)

// Catalogue lists every metric, in documentation order.
var Catalogue = []Metric{
	JobsReceived, WebhookRejected, JobsLaunched, JobsDeferred, JobsDropped, JobsExpired, JobsFailed,
	LaunchLatency, WaitingJobAge, QueueWait, JobsCompleted, RunnersLive, RunnersIdle, RunnersBusy, InstancesTerminated,
	PoolLaunched, EC2Errors, GitHubRateLimitRemaining, GitHubCalls, GitHubPacingWaits, GitHubRateLimited,
	Redeliveries, SpotInterruptions, JobsRerun, JobsRelaunched, JobsAbandoned, RechecksUnscheduled,
}
