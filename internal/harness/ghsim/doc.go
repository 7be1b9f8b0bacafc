// Package ghsim is a stateful GitHub simulator for ghr's local sandbox and end-to-end tests:
// the REST API ghr's functions call (App JWT and installation tokens, runners, runner groups,
// JIT configs, registration tokens, jobs, App hook deliveries, actions/runner releases) with
// GitHub's JSON shapes, status codes and headers, signed `workflow_job` webhooks, primary and
// secondary rate limits, injectable faults, and a Go API that plays the workflow side (queue
// jobs) and the runner side (simulated hosts connect with a JIT config or registration token,
// take jobs, complete them, or vanish mid-job).
//
// Typical use by the sandbox:
//
//	srv, _ := ghsim.Start(ctx, ghsim.Options{WebhookURL: url, WebhookSecret: secret})
//	srv.AddOrg("octo"); srv.AddRepo("octo", "app"); srv.Install("octo")
//	// ghr's functions get APIURL srv.URL, AppID srv.AppID(), key srv.PrivateKeyPEM().
//	srv.QueueJob(ghsim.JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "linux"}, Duration: d})
//	// a simulated host, once its instance has booted:
//	conn, _ := srv.ConnectToken(valueReadFromSSM)
//	conn.RunJobs(ctx, ghsim.Sleep) // returns after an ephemeral runner's job
//	// report: srv.Jobs(), srv.Runners(), srv.Deliveries(), srv.Stats()
//
// Behaviour the simulator had to choose, following GitHub where GitHub is known:
//
//   - Routing: a job goes to an idle online runner registered on its repository or its
//     organization whose labels include every job label, ignoring case; the oldest queued
//     job first, the longest-idle runner first. Every runner group is visible to every
//     repository. A JIT runner has exactly the labels given to generate-jitconfig; a
//     registration-token runner has config.sh's defaults (self-hosted, Linux, X64) too
//     (ConnectRegistration), except one started from a registration document with labels
//     (ConnectToken), which gets exactly those, as start-runner.sh's --no-default-labels does.
//   - A runner created by generate-jitconfig is listed at once, offline and idle, until a host
//     connects with its config (which works once). An ephemeral runner is removed after its
//     job. Offline runners disappear after a day (ephemeral) or 14 days, as on GitHub.
//   - A runner that vanishes mid-job (Interrupt, Disconnect) goes offline; after
//     Options.LostRunnerTimeout (GitHub: about ten minutes; default 0) its job completes with
//     conclusion failure, as GitHub does, and nothing re-runs it. POST
//     /repos/{o}/{r}/actions/jobs/{id}/rerun (or RerunJob) re-runs it under GitHub's rules —
//     only a completed job, of a run with no job still queued or running, within 30 days of
//     the run, up to 50 attempts, once per attempt — as a new job id, same run id,
//     run_attempt+1, with a new `queued` event. Options.RetryLostJobs re-runs a lost job at
//     once, which GitHub never does: only for harness tests that predate the re-run API.
//     The offline registration stays until deleted.
//   - Token scope: an installation token on another org's runners answers 403 "Resource not
//     accessible by integration"; on a repository outside the installation, 404. An App JWT
//     on installation endpoints answers 403, an installation token on App endpoints 401.
//   - Rate limits: each identity (the App's JWT, each installation, anonymous callers) has an
//     hourly quota (X-RateLimit-* headers on every answer, 403 with remaining 0 when spent);
//     each identity and endpoint has a sliding one-minute budget of secondary points (GET 1,
//     other methods 5, default 900) answered 403 or 429 with Retry-After. GET /rate_limit is
//     free.
//   - Webhooks are delivered by a few concurrent workers, so events may arrive out of order
//     even without injected delays. A delivery with no answer has status_code 0 and matches
//     neither status=success nor status=failure in the deliveries list (GitHub documents the
//     filter by status_code range). Link headers point at the request's own URL (GitHub
//     rewrites org paths to /organizations/{id}/…; clients read only page and cursor).
package ghsim
