package scaledown

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

func TestDecideOrphansTwoPhases(t *testing.T) {
	small := cfgs(config.RunnerConfig{Key: "small"})
	// launched is an instance of age whose launching invocation's deadline is untilDeadline
	// from now (negative: passed) and that invocation did or did not store its registration.
	launched := func(id string, age time.Duration, registered bool, untilDeadline time.Duration) Instance {
		i := inst(id, age)
		i.Registered, i.LaunchDeadline = registered, t0.Add(untilDeadline)
		return i
	}
	marked := func(id string, age, markedAgo time.Duration) Instance {
		i := inst(id, age)
		i.OrphanTag = t0.Add(-markedAgo).Format(time.RFC3339)
		return i
	}
	tests := []struct {
		name                   string
		inst                   Instance
		runners                map[Owner][]Runner
		mark, clear, terminate []string
	}{
		{name: "booting unregistered: wait", inst: inst("i-a0000006", 5*time.Minute-time.Second), runners: map[Owner][]Runner{octo: {}}},
		{name: "booting, its launch still registering: wait", inst: launched("i-a0000006", time.Minute, false, 10*time.Second), runners: map[Owner][]Runner{octo: {}}},
		{name: "booting, its launch died before registering: mark", inst: launched("i-a0000006", time.Minute, false, -deadLaunchGrace), runners: map[Owner][]Runner{octo: {}}, mark: []string{"i-a0000006"}},
		{name: "booting, registered by its launch: wait", inst: launched("i-a0000006", time.Minute, true, -time.Minute), runners: map[Owner][]Runner{octo: {}}},
		{name: "dead launch that GitHub lists (its tag call failed): not an orphan", inst: launched("i-a0000006", time.Minute, false, -time.Minute), runners: map[Owner][]Runner{octo: {offline("i-a0000006", 1)}}},
		{name: "unregistered at boot time: mark", inst: inst("i-a0000006", 5*time.Minute), runners: map[Owner][]Runner{octo: {}}, mark: []string{"i-a0000006"}},
		{name: "marked on an earlier pass: terminate", inst: marked("i-a0000006", time.Hour, 5*time.Minute), runners: map[Owner][]Runner{octo: {}}, terminate: []string{"i-a0000006"}},
		{name: "marked by an overlapping pass: wait", inst: marked("i-a0000006", time.Hour, 30*time.Second), runners: map[Owner][]Runner{octo: {}}},
		{name: "mark with a bad time: mark again", inst: Instance{ID: "i-a0000006", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour), OrphanTag: "yes"},
			runners: map[Owner][]Runner{octo: {}}, mark: []string{"i-a0000006"}},
		{name: "registered after the mark: clear it", inst: marked("i-a0000006", time.Hour, 5*time.Minute),
			runners: map[Owner][]Runner{octo: {busy("i-a0000006", 1)}}, clear: []string{"i-a0000006"}},
		{name: "registered offline while marked: clear", inst: marked("i-a0000006", 6*time.Minute, 1*time.Minute),
			runners: map[Owner][]Runner{octo: {offline("i-a0000006", 1)}}, clear: []string{"i-a0000006"}},
		{name: "registered idle while marked and removed: keep the tag", inst: marked("i-a0000006", time.Hour, 1*time.Minute),
			runners: map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}},
		{name: "owner not listed: wait", inst: marked("i-a0000006", time.Hour, time.Hour), runners: map[Owner][]Runner{}},
		{name: "protected: never", inst: Instance{ID: "i-a0000006", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour), OrphanTag: t0.Add(-time.Hour).Format(time.RFC3339), Protected: true},
			runners: map[Owner][]Runner{octo: {}}},
		{name: "no owner tags: orphan with no registration possible", inst: Instance{ID: "i-a0000006", RunnerConfig: "small", LaunchTime: t0.Add(-time.Hour)},
			runners: map[Owner][]Runner{}, mark: []string{"i-a0000006"}},
		{name: "another deployment's runner name does not count", inst: inst("i-a0000006", time.Hour),
			runners: map[Owner][]Runner{octo: {{ID: 1, Name: "other-i-a0000006", Online: true}}}, mark: []string{"i-a0000006"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Decide(state(small, []Instance{tt.inst}, tt.runners))
			check := func(what string, got, want []string) {
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("mark", p.MarkOrphans, tt.mark)
			check("clear", p.ClearOrphans, tt.clear)
			check("terminate", p.Terminate, tt.terminate)
		})
	}
}

func TestDecideGhostsAndTokens(t *testing.T) {
	repo := Owner{Level: tags.TypeRepo, Name: "octo/app"}
	s := state(cfgs(config.RunnerConfig{Key: "small"}),
		[]Instance{inst("i-a0000012", time.Minute), {ID: "i-a0000016", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour), Protected: true}},
		map[Owner][]Runner{
			octo: {
				offline("i-a000000d", 1),                           // ghost
				busy("i-a000000e", 2),                              // busy: never
				{ID: 3, Name: prefix + "i-a000000f", Online: true}, // online without instance: leave
				offline("i-a0000016", 4),                           // protected instance: not a ghost
				{ID: 5, Name: "someone-else"},                      // not ours
				offline("i-a0000012", 6),                           // booting
			},
			repo: {offline("i-a0000010", 7)},
		})
	s.Tokens = []Token{
		{Name: "/p/runners/small/tokens/i-a0000012", InstanceID: "i-a0000012"},
		{Name: "/p/runners/small/tokens/i-a000000d", InstanceID: "i-a000000d", Modified: t0.Add(-tokenGrace)},
		{Name: "/p/runners/small/tokens/i-a0000016", InstanceID: "i-a0000016"},
		{Name: "/p/runners/small/tokens/i-a0000013", InstanceID: "i-a0000013", Modified: t0.Add(-tokenGrace + time.Second)}, // its instance may not be listed yet
	}
	p := Decide(s)
	want := []Removal{
		{Owner: octo, RunnerID: 1, RunnerName: prefix + "i-a000000d", Reason: ReasonGhost},
		{Owner: repo, RunnerID: 7, RunnerName: prefix + "i-a0000010", Reason: ReasonGhost},
	}
	if !slices.Equal(p.Removals, want) {
		t.Errorf("removals = %+v, want %+v", p.Removals, want)
	}
	if !slices.Equal(p.DeleteTokens, []string{"/p/runners/small/tokens/i-a000000d"}) {
		t.Errorf("tokens = %v", p.DeleteTokens)
	}
	s.Tokens = nil
	if p := Decide(s); len(p.DeleteTokens) != 0 {
		t.Errorf("tokens not listed, yet deleted %v", p.DeleteTokens)
	}
}

// shiftedGitHub drops one runner from every list, as a page-numbered list does when another
// runner registers while it is read and pushes this one from page 1 to the page already read.
type shiftedGitHub struct {
	*GitHub
	skip string
}

func (g *shiftedGitHub) ListRunners(ctx context.Context, o Owner) ([]Runner, error) {
	rs, err := g.GitHub.ListRunners(ctx, o)
	return slices.DeleteFunc(rs, func(r Runner) bool { return r.Name == g.skip }), err
}

// The second orphan phase used to terminate on absence from the list alone: a registered,
// busy runner the list skipped twice lost its instance and its job.
func TestOrphanConfirmedByIDBeforeTermination(t *testing.T) {
	ctx := context.Background()
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	old := t0.Add(-time.Hour)
	markedAt := t0.Add(-5 * time.Minute).Format(time.RFC3339)
	byID := gh.AddRunner("orgs/octo", "ghr-i-a0000021", true, true)
	gh.AddRunner("orgs/octo", "ghr-i-a0000022", true, true)
	fleet := newMemFleet(
		Instance{ID: "i-a0000021", RunnerConfig: "small", Owner: octo, LaunchTime: old, OrphanTag: markedAt, RunnerID: byID},
		Instance{ID: "i-a0000022", RunnerConfig: "small", Owner: octo, LaunchTime: old, OrphanTag: markedAt}, // no recorded id: by name
		Instance{ID: "i-a0000023", RunnerConfig: "small", Owner: octo, LaunchTime: old, OrphanTag: markedAt}, // really gone
	)
	for _, skip := range []string{"ghr-i-a0000021", "ghr-i-a0000022"} {
		r := &Reconciler{
			Fleet: fleet, GitHub: &shiftedGitHub{GitHub: &GitHub{App: gh.App(t)}, skip: skip},
			Configs:          []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5}},
			RunnerNamePrefix: prefix, Log: quietLog(), Now: func() time.Time { return t0 }, RelistDelay: time.Millisecond,
		}
		if _, err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if !fleet.has(skip[len(prefix):]) {
			t.Fatalf("%s: a registered busy runner's instance was terminated as an orphan", skip)
		}
	}
	if fleet.has("i-a0000023") {
		t.Fatal("the confirmed orphan is still running")
	}
}
