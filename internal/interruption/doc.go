// Package interruption handles the loss of spot capacity under a running job, as RunsOn does:
// the interrupted job is re-run once, on on-demand capacity, and a config whose spot pools
// keep being reclaimed stops using spot for a while (the circuit breaker).
//
// Flow:
//   - EventBridge delivers "EC2 Spot Instance Interruption Warning" (two minutes before the
//     reclaim) and "EC2 Instance State-change Notification" (shutting-down, terminated) for
//     every instance of the account; Handler keeps only this deployment's (Fleet proves it
//     by the environment and created-by tags, as every listing does).
//   - On the warning, Handler records the interruption (Record: config, owner, runner id)
//     and tries to deregister the runner. While the runner still runs its job GitHub refuses
//     (422); on the state change that follows the runner is offline and the DELETE is tried
//     again. GitHub does not document whether removing a vanished busy runner fails its job
//     before the ~10-minute lost-runner timeout; the simulator assumes not (422 until then),
//     so nothing here depends on it: the re-run follows the job's failure whenever it comes.
//   - The job's `completed` event reaches clean-up through the lifecycle queue, the only
//     place that knows which job the runner ran. Rerunner re-runs it through GitHub's
//     re-run API when the event's runner id is the one recorded for the interrupted
//     instance, at most once per record, and marks the run so scale-up launches it on
//     on-demand (Gate).
//   - Breaker is pure: interruptions of a config within a window trip it; Gate reads the
//     records and tells scale-up and the pool to launch on-demand while it is open.
//
// State lives in SSM, one String parameter per interrupted instance under
// /<prefix>/interruptions/. Not in EC2 tags: a terminated instance's tags disappear with it
// (about an hour), listing them needs a DescribeInstances over terminated instances, and the
// re-run marker must outlive the instance. One parameter per instance means no two
// invocations ever rewrite the same value (SSM has no conditional write), and one paged
// GetParametersByPath reads the whole deployment's state; records older than the breaker's
// window plus cool-down are pruned by the function that writes new ones.
package interruption
