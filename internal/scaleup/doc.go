// Package scaleup turns queued jobs into registered runners. The scale-up Lambda hands it each
// SQS batch from the build queues (one queue per runner config, one function for all):
//
//	decode → drop invalid, duplicate and unknown-config messages → list live runners once per
//	runner config → drop jobs that already have a runner → drop jobs their installation
//	cannot serve → (optionally) drop jobs GitHub no
//	longer queues → allocate within max_runners, oldest first → one launch per (config,
//	owner[, labels]) → register every host concurrently → acknowledge or retry each message.
//
// The decision steps (Triage, MarkServed, Allocate) are pure; the side effects sit behind
// Compute (EC2 today, see EC2Compute), TokenStore (SSM, internal/runnertoken) and GitHub
// (AppGitHub). Launcher is the launch-and-register path, shared with the warm pool.
//
// # One runner per job
//
// The webhook is stateless and sends to standard SQS queues, so a job can arrive twice
// (GitHub redelivers, SQS delivers at least once) and a batch can be retried. Scale-up still
// launches one runner per job:
//
//  1. Job ids are de-duplicated within a batch.
//
//  2. Every host carries its launch's job ids in the ghr:job-id tag (ascending,
//     comma-separated: CreateFleet tags a whole fleet alike, see ec2fleet.FormatJobIDs). The
//     listing that counts runners for max_runners — one paged, tag-filtered
//     DescribeInstances per runner config — also returns these tags, so finding jobs that
//     already have a runner costs no extra call. Invariant: when c live hosts carry the same
//     list, its first c jobs are served. The launcher keeps it by acknowledging, in a launch
//     that registered m hosts, exactly the first m jobs and retrying the rest; hosts it could
//     not register are terminated, so they leave the count.
//
//  3. CreateFleet's ClientToken is a hash of the runner config, owner and sorted job ids
//     (with each message's receive and requeue counts), so a request repeated while its
//     outcome is in doubt returns the first fleet instead of launching another, and a job
//     delivered again after its hosts were terminated gets new ones rather than a replay of
//     the dead fleet.
//
//  4. A host counts as a job's runner once its registration is stored — the launcher then
//     tags the launch's hosts ghr:registered in one CreateTags call — or while the
//     invocation that launched it may still be registering it: until that invocation's
//     deadline, which the launch records on every host (ghr:launch-deadline) in the
//     CreateFleet call itself. A function that died between CreateFleet and storing the
//     registration leaves hosts that are neither once its deadline has passed: when the
//     jobs come back (SQS redelivery or a requeue), they get new hosts, and scale-down
//     reaps the dead ones as orphans.
//
// A host that dies right after launch (EC2's Client.InternalError) is caught by the next
// batch of its config from the listing it makes anyway (dead.go), told from a host that ended
// itself after a short job by EC2's state reason: its job is requeued and its registration
// deleted.
//
// A registered host that dies before taking its job, or whose runner takes another
// launch's job, is caught by the launch's delayed re-check (internal/reconcile): scale-up
// sends one queue.Recheck per ephemeral launch to the lifecycle queue (recheck.go), clean-up
// runs it and sends a job left without a runner back to its build queue. A runner that took
// another launch's job (ghr:took-job) serves none of its own list in MarkServed.
//
// Known limits: a duplicate arriving after its job's ephemeral runner has finished and gone
// launches a spare runner, which scale-down removes when idle; CHECK_JOB_QUEUED=always
// prevents that at one GitHub call per job.
//
// # Message fates
//
// Acknowledged: launched and registered, duplicate, already served, not queued any more,
// unknown runner config, invalid (logged at error level and counted in the MessagesInvalid
// metric), unauthorized: its installation is unknown, suspended or another account's, or
// does not cover its repository, so no installation token could ever register its runner
// (logged at error level with the reason, counted as JobsDropped reason unauthorized; no
// host is launched). Requeued — sent again as a new message with a delay doubling from requeueBase to
// requeueMax, and the original acknowledged — when the job could not be served for a reason
// waiting fixes: over max_runners, or any Transient failure (capacity on spot and
// on-demand, quotas, throttling and rate limits, EC2/SSM/GitHub 5xx, network errors, a
// failed runner listing, a launch given back over the cap, too little time left). Waiting by
// SQS redelivery instead would spend receive counts, and an outage longer than
// max_receive_count visibility timeouts would end in the dead-letter queue with its jobs
// never run. A job queued longer than GitHub keeps one (24 hours) is dropped with an error
// log. Retried (batch item failures, which do spend receive counts): failures waiting does
// not fix (EC2 invalid configuration, GitHub 4xx, unknown errors), or the requeue itself
// failed; a message failing on its last receive (MaxReceives) is logged at error level with
// its job id. Invalid-configuration errors from EC2 are logged at error level and pause
// launches for that runner config for invalidConfigPause; the queue's redrive policy bounds
// retries (docs/redrive.md).
//
// # Hard cap
//
// Allocate launches within max_runners by the listing's count, but concurrent invocations
// (scale-up pollers, the warm pool) can count the same free slots. So a capped launch lists
// the config again after CreateFleet and, before registering any host, terminates its own
// new hosts ranked beyond the cap (Excess): every invocation ranks the same listing alike,
// so together they keep at most max_runners (docs/decisions.md).
//
// # GitHub calls
//
// Ephemeral runners get one JIT config each (the floor); persistent runners share one
// registration token per owner, cached until near expiry; the installation token is minted
// once per installation per container; an org runner group name is resolved once. Before
// any launch each (installation, repository) is authorized (authorize.go) — one installation
// lookup per installation, one repository lookup per repository only for installations with
// selected repositories — cached for authorizationTTL, so steady state adds no call. Calls run
// concurrently up to GITHUB_CONCURRENCY and are paced per endpoint below GitHub's secondary
// limit by githubapp.Transport. A rate-limit answer pauses all GitHub calls until its
// Retry-After has passed; affected hosts are terminated and their jobs retried, and no host
// is launched while the pause lasts.
package scaleup
