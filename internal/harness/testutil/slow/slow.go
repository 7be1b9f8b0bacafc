// Package slow marks the tests `go test -short` leaves out: those that start moto_server, run
// terraform, build every Lambda binary or deploy the end-to-end sandbox. `make unit` runs the
// short set first so a broken rule fails in a minute, then everything; `make test` (what CI
// runs) still runs everything, so -short only changes the order, never what is covered.
package slow

import "testing"

// Kind is why a test is slow; it reads as the end of "-short: this test …".
type Kind string

// The kinds of slow test.
const (
	Emulator  Kind = "starts moto_server"                    // a Python start of seconds, more on a busy machine
	Terraform Kind = "runs terraform"                        // provider start-up and plans take tens of seconds
	Build     Kind = "builds the Lambda binaries"            // a full cross-package link per function
	EndToEnd  Kind = "deploys the whole sandbox"             // minutes: module apply, functions, hosts
	Tools     Kind = "runs an external checker (shellcheck)" // outside Go, present only after check-tools
)

// Skip skips the test under -short, saying why. Call it first, before any set-up.
func Skip(tb testing.TB, k Kind) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("-short: this test %s; make test runs it", k)
	}
}
