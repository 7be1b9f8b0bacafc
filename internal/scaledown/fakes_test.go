package scaledown

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/tags"
)

// fakeEnvironment is the deployment the test fleet's instances belong to.
const fakeEnvironment = "ghr"

var _ EC2API = (*ec2fleettest.Fake)(nil)

// memFleet is the deployment's Fleet as shipped (EC2) on the in-memory EC2 fake.
type memFleet struct {
	EC2
	fake *ec2fleettest.Fake
}

func newMemFleet(insts ...Instance) *memFleet {
	f := &memFleet{fake: ec2fleettest.NewFake()}
	f.EC2 = EC2{API: f.fake, Prefix: fakeEnvironment, LaunchTemplates: []string{ec2fleettest.TemplateID}}
	for _, in := range insts {
		f.put(in)
	}
	return f
}

// put starts in with the tags scale-up (and an operator, for ghr:protect) would have set.
func (f *memFleet) put(in Instance) {
	extra := map[string]string{}
	if in.OrphanTag != "" {
		extra[tags.Orphan] = in.OrphanTag
	}
	if in.Protected {
		extra[tags.Protect] = "true"
	}
	f.fake.PutRunner(ec2fleettest.Runner{ID: in.ID, Environment: fakeEnvironment, Config: in.RunnerConfig, Level: in.Owner.Level,
		Owner: in.Owner.Name, CreatedBy: in.CreatedBy, RunnerID: in.RunnerID, LaunchTime: in.LaunchTime, Extra: extra})
}

// has reports whether id is still alive (not terminated).
func (f *memFleet) has(id string) bool {
	i, ok := f.fake.Instance(id)
	return ok && i.State != "terminated"
}

func (f *memFleet) calls(op string) int { return f.fake.Calls()[op] }

// memTokens is an in-memory SSM side.
type memTokens struct {
	tokens   map[string]string    // name → instance id
	modified map[string]time.Time // name → when written; absent is unknown (zero)
}

func (m *memTokens) List(context.Context) ([]Token, error) {
	var out []Token
	for _, n := range slices.Sorted(maps.Keys(m.tokens)) {
		out = append(out, Token{Name: n, InstanceID: m.tokens[n], Modified: m.modified[n]})
	}
	return out, nil
}

func (m *memTokens) Delete(_ context.Context, names []string) (int, error) {
	for _, n := range names {
		delete(m.tokens, n)
	}
	return len(names), nil
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
