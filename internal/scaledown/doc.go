// Package scaledown is the scheduled reconcile: it compares the deployment's GitHub runner
// registrations with its EC2 instances and SSM token parameters, and removes what is no
// longer needed without ever killing a busy runner.
//
// The decision core (Decide) is pure: a State (runners per owner, instances, token
// parameters, runner configs, now) goes in, a Plan comes out. The executor (Reconciler)
// gathers the state and carries the plan out.
//
// Rules the core follows, and why:
//   - A runner is removed by deleting its GitHub registration first; the instance is
//     terminated only after GitHub confirmed (204, or 404 when it is already gone). GitHub
//     answers 422 for a busy runner, which is the only race-free busy check: the list's busy
//     flag can be a few seconds stale.
//   - Idle runners are kept per runner config and owner: max(active idle_config count,
//     pool_size for the config's pool owner), so the scheduled pool never fights the
//     scale-down. Idle means online and not busy, or still booting within boot_minutes.
//     Which idle runners stay follows idle_eviction; runners younger than
//     minimum_running_minutes are never removed, nor is a registered runner that has not
//     connected yet while within boot_minutes (it may still take its job).
//   - Orphans (an instance with no registration after boot_minutes) are removed in two
//     phases: the first pass tags ghr:orphan with the time, a later pass terminates it if it
//     is still unregistered, so a slow boot gets one more pass. A registration that appears
//     clears the tag. Before terminating, the second phase asks GitHub for the registration
//     itself, by the runner id scale-up recorded or else by ?name= (one call per orphan):
//     a page-numbered list can skip a runner that registers while it is read.
//   - Ghosts (a registration named like ours, offline, not busy, whose instance is not
//     running) are deleted. The executor lists instances again before deciding when there is
//     a ghost candidate, so an instance launched during the pass is not mistaken for gone.
//   - Token parameters whose instance is not running are deleted once older than tokenGrace,
//     or at once when EC2 lists the instance as ended (a host that died at boot never reads
//     its token; an instance not listed at all may be a launch EC2 does not list yet). Tokens
//     are listed before instances: scale-up writes a token only after its instance exists,
//     so every listed token of a live instance finds that instance in the later list.
//   - An instance tagged ghr:protect is never touched, nor its registration.
//   - An owner whose runner list failed is skipped entirely this pass: with no list, no
//     instance of that owner can be called idle or orphaned.
package scaledown
