package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// fakeEnvironment is the deployment the test instances belong to.
const fakeEnvironment = "ghr"

// put starts in on the in-memory EC2 with the tags scale-up gives a host.
func put(ec2 *ec2fleettest.Fake, in scaledown.Instance) {
	ec2.PutRunner(ec2fleettest.Runner{ID: in.ID, Environment: fakeEnvironment, Config: in.RunnerConfig,
		Level: in.Owner.Level, Owner: in.Owner.Name, CreatedBy: in.CreatedBy, LaunchTime: in.LaunchTime})
}

// fakeLauncher starts instances into the in-memory EC2, up to room; beyond it, it fails the
// way a capacity shortage does.
type fakeLauncher struct {
	ec2   *ec2fleettest.Fake
	room  int
	calls []string
	n     int
}

func (l *fakeLauncher) Launch(_ context.Context, cfg *config.RunnerConfig, org string, count int) ([]string, error) {
	l.calls = append(l.calls, fmt.Sprintf("%s/%s/%d", cfg.Key, org, count))
	var ids []string
	for range min(count, l.room) {
		l.n++
		id := fmt.Sprintf("i-new%d", l.n)
		put(l.ec2, scaledown.Instance{ID: id, RunnerConfig: cfg.Key, Owner: scaledown.Owner{Level: "org", Name: org}, LaunchTime: now})
		ids = append(ids, id)
	}
	l.room -= len(ids)
	if len(ids) < count {
		return ids, errors.New("insufficient capacity")
	}
	return ids, nil
}

func TestPoolPass(t *testing.T) {
	ctx := context.Background()
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", prefix+"i-a", true, false)
	ec2 := ec2fleettest.NewFake()
	put(ec2, in("i-a", octo, time.Hour))
	fleet := scaledown.EC2{API: ec2, Prefix: fakeEnvironment, LaunchTemplates: []string{ec2fleettest.TemplateID}}
	launcher := &fakeLauncher{ec2: ec2, room: 3}
	app := gh.App(t)
	p := &Pool{
		Fleet: fleet, GitHub: &scaledown.GitHub{App: app}, Launcher: launcher, RunnerNamePrefix: prefix,
		Configs: []config.RunnerConfig{
			{Key: "warm", Level: "org", PoolSize: 2, PoolOwner: "octo", BootMinutes: 5, MaxRunners: -1},
			{Key: "big", Level: "org", PoolSize: 3, PoolOwner: "octo", BootMinutes: 5, MaxRunners: 10},
			{Key: "cold", Level: "org", MaxRunners: 10},
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
	}
	counts, err := p.Run(ctx)
	if err == nil {
		t.Fatal("a short launch was not reported")
	}
	if len(launcher.calls) != 2 || launcher.calls[0] != "warm/octo/1" || launcher.calls[1] != "big/octo/3" {
		t.Fatalf("launches = %v", launcher.calls)
	}
	if counts[0].Launch != 1 || counts[1].Launch != 2 {
		t.Errorf("counts = %+v, want 1 and 2 launched", counts)
	}
	if n := app.Stats().Calls()["GET /orgs/{org}/actions/runners"]; n != 1 {
		t.Errorf("runner lists = %d, want one per pool owner", n)
	}

	// Next pass: the new instances are booting (idle); only the shortfall is launched.
	launcher.calls, launcher.room = nil, 10
	if _, err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(launcher.calls) != 1 || launcher.calls[0] != "big/octo/1" {
		t.Fatalf("second pass launches = %v, want [big/octo/1]", launcher.calls)
	}
}
