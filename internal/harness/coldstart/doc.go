// Package coldstart measures each ghr Lambda's cold start the way Lambda's provided.al2023
// runtime sees it: the real binary (built as `make dist` builds it, for this machine's
// architecture) starts under the local Runtime API host (internal/harness/lambdahost) with a
// deployment-shaped environment — App credentials and the webhook secret read from SSM
// SecureStrings, runner configs inline — against moto_server and the GitHub simulator, and
// answers one representative event. Cold start is process start to that first response
// (init plus one handler run); peak RSS is the process's high-water resident set at that
// point. BenchmarkColdStart reports the median of several fresh processes per function.
//
// The figures are the process's own work on a shared machine with local emulators: real
// Lambda adds the sandbox and code download in front, and AWS API latencies instead of
// moto's.
package coldstart
