package pool_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/pool"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// TestPoolWithScaleUpAndScaleDown runs the pool through the real scale-up launch path against
// moto_server and the GitHub simulator, then a scale-down pass: the pool's idle runners are
// kept (pool_size), an idle runner beyond it is removed.
func TestPoolWithScaleUpAndScaleDown(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	awsCfg := awsproxy.InFront(t, motoserver.Start(t)).AWSConfig() // EC2's template tags on fleet launches
	ec2c, ssmc := ec2.NewFromConfig(awsCfg), ssm.NewFromConfig(awsCfg)
	world := ec2fleettest.Setup(t, ec2c)
	gh, err := ghsim.Start(ctx, ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gh.Close() })
	if _, err := gh.AddOrg("octo"); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Install("octo"); err != nil {
		t.Fatal(err)
	}
	cfgs, err := config.ParseRunnerConfigs(fmt.Appendf(nil, `[{"key":"warm","labels":["self-hosted","linux"],"queue_url":"q",
		"ephemeral":true,"max_runners":5,"pool_size":2,"pool_owner":"octo","launch_template":%q,"instance_types":["t3.micro"],"subnet_ids":[%q]}]`,
		world.LaunchTemplate, world.SubnetIDs[0]))
	if err != nil {
		t.Fatal(err)
	}
	app, err := githubapp.New(githubapp.Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), APIURL: gh.URL})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	launcher := &scaleup.Launcher{
		Compute:          &scaleup.EC2Compute{API: ec2c, Fleet: &ec2fleet.Fleet{API: ec2c, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)}, Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}},
		Tokens:           runnertoken.Store{API: ssmc, Prefix: "ghr"},
		GitHub:           scaleup.NewAppGitHub(app, config.WebURL(gh.URL), 10, nil),
		RunnerNamePrefix: "ghr-", Logger: log,
	}
	fleet := scaledown.EC2{API: ec2c, Prefix: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}}
	p := &pool.Pool{Fleet: fleet, GitHub: &scaledown.GitHub{App: app}, Launcher: scaleup.PoolLauncher{L: launcher},
		Configs: cfgs, RunnerNamePrefix: "ghr-", Log: log}

	counts, err := p.Run(ctx)
	if err != nil || len(counts) != 1 || counts[0].Launch != 2 {
		t.Fatalf("first pass = %+v, %v; want 2 launched", counts, err)
	}
	live, err := ec2fleet.List(ctx, ec2c, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}})
	if err != nil || len(live) != 2 {
		t.Fatalf("instances = %d, %v", len(live), err)
	}
	for _, i := range live {
		if i.Tags[tags.CreatedBy] != tags.CreatedByPool || i.Tags[tags.Owner] != "octo" || i.Tags[tags.Type] != tags.TypeOrg {
			t.Errorf("pool instance %s tags = %v", i.ID, i.Tags)
		}
	}
	// Booting, registered offline: they count as idle, nothing more is launched.
	if counts, err = p.Run(ctx); err != nil || counts[0].Idle != 2 || counts[0].Launch != 0 {
		t.Fatalf("second pass = %+v, %v; want 2 idle, none launched", counts, err)
	}

	// One more idle runner of the config (as scale-up would leave one), then every host
	// connects: three idle online runners.
	if _, err := launcher.Launch(ctx, &cfgs[0], runner.Owner{Name: "octo", Level: tags.TypeOrg}, 1, tags.CreatedByScaleUp); err != nil {
		t.Fatal(err)
	}
	live, _ = ec2fleet.List(ctx, ec2c, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}})
	for _, i := range live {
		v, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(runnertoken.Path("ghr", "warm", i.ID)), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gh.ConnectJIT(aws.ToString(v.Parameter.Value)); err != nil {
			t.Fatal(err)
		}
	}
	r := &scaledown.Reconciler{Fleet: fleet, GitHub: &scaledown.GitHub{App: app}, Configs: cfgs, RunnerNamePrefix: "ghr-", Log: log,
		Now: func() time.Time { return time.Now().Add(time.Hour) }}
	res, err := r.Run(ctx)
	if err != nil || res.Removed != 1 || res.Terminated != 1 {
		t.Fatalf("scale-down = %+v, %v; want one runner beyond the pool removed", res, err)
	}
	if n := len(gh.Runners()); n != 2 {
		t.Errorf("registrations left = %d, want the pool's 2", n)
	}
	if counts, err = p.Run(ctx); err != nil || counts[0].Idle != 2 || counts[0].Launch != 0 {
		t.Fatalf("pool after scale-down = %+v, %v; want it full", counts, err)
	}
}
