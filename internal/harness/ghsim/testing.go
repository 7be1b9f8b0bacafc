package ghsim

import (
	"context"
	"testing"
)

// StartOrg starts a simulator for a test with organization org, its repository repo and the
// App installed on org; it closes with the test. Every step's error fails the test.
func StartOrg(tb testing.TB, ctx context.Context, opts Options, org, repo string) (*Server, Installation) {
	tb.Helper()
	gh, err := Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gh.Close() })
	if _, err := gh.AddOrg(org); err != nil {
		tb.Fatal(err)
	}
	if _, err := gh.AddRepo(org, repo); err != nil {
		tb.Fatal(err)
	}
	in, err := gh.Install(org)
	if err != nil {
		tb.Fatal(err)
	}
	return gh, in
}
