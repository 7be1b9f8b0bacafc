// Package functest runs a Lambda's real main() under internal/harness/lambdahost from the Lambda's
// own test binary: the binary re-executes itself as the function when a marker variable is
// set, so the test covers the wiring (env, config, clients) exactly as deployed.
package functest

import (
	"cmp"
	"io"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
)

// invokeTimeout: one invocation against moto on a shared 2-core machine takes seconds.
const invokeTimeout = time.Minute

// Main is a test binary's TestMain body: it runs main when started as the function (marker
// set), otherwise the tests.
func Main(m *testing.M, marker string, main func()) {
	if os.Getenv(marker) != "" {
		main()
		return
	}
	os.Exit(m.Run())
}

// Host starts the test binary as fn, its Env completed with the marker and awsEnv (the
// emulator's KEY=VALUE pairs, e.g. motoserver.Server.Env()). Unset fields default to a
// one-minute timeout, one environment at a time and discarded logs. It closes with the test.
func Host(tb testing.TB, marker string, fn lambdahost.Function, awsEnv []string) *lambdahost.Host {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{marker: "1"}
	maps.Copy(env, fn.Env)
	for _, kv := range awsEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	fn.Path, fn.Env = self, env
	fn.Timeout = cmp.Or(fn.Timeout, invokeTimeout)
	fn.Concurrency = cmp.Or(fn.Concurrency, 1)
	if fn.Logs == nil {
		fn.Logs = io.Discard
	}
	h := lambdahost.New(fn)
	tb.Cleanup(h.Close)
	return h
}
