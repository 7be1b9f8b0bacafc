package scaleup_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// TestIntegration runs scale-up against moto_server (EC2 CreateFleet, DescribeInstances, SSM)
// and the GitHub simulator: instances exist with the right tags, each SSM parameter holds a
// JIT config GitHub accepts for that instance's runner, and max_runners holds.
func TestIntegration(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	awsCfg := awsproxy.InFront(t, motoserver.Start(t)).AWSConfig() // EC2's template tags on fleet launches
	ec2c, ssmc := ec2.NewFromConfig(awsCfg), ssm.NewFromConfig(awsCfg)
	world := ec2fleettest.Setup(t, ec2c)

	gh, inst := ghsim.StartOrg(t, ctx, ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t)}, "octo", "app")
	var jobIDs []int64
	for range 5 {
		j, err := gh.QueueJob(ghsim.JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "linux"}})
		if err != nil {
			t.Fatal(err)
		}
		jobIDs = append(jobIDs, j.ID)
	}

	cfgs, err := config.ParseRunnerConfigs(fmt.Appendf(nil, `[{"key":"linux","labels":["self-hosted","linux"],"queue_url":"q",
		"ephemeral":true,"max_runners":4,"launch_template":%q,"instance_types":["t3.micro","t3.small"],"subnet_ids":[%q,%q]}]`,
		world.LaunchTemplate, world.SubnetIDs[0], world.SubnetIDs[1]))
	if err != nil {
		t.Fatal(err)
	}
	app, err := githubapp.New(githubapp.Config{AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), APIURL: gh.URL})
	if err != nil {
		t.Fatal(err)
	}
	l := &scaleup.Launcher{
		Compute:          &scaleup.EC2Compute{API: ec2c, Fleet: &ec2fleet.Fleet{API: ec2c, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)}, Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}},
		Tokens:           runnertoken.Store{API: ssmc, Prefix: "ghr"},
		GitHub:           scaleup.NewAppGitHub(app, config.WebURL(gh.URL), 10, nil),
		RunnerNamePrefix: "ghr-", Logger: discardLogger(),
	}
	h := &scaleup.Handler{Launcher: l, Configs: config.ByKey(cfgs), CheckJobQueued: config.CheckQueuedAlways, Logger: discardLogger()}

	var jobs []queue.Job
	for _, id := range jobIDs {
		j := job(id, "linux", "octo")
		j.InstallationID = inst.ID
		jobs = append(jobs, j)
	}
	ev := sqsEvent(t, append(jobs, jobs[0])...) // job 0 twice: one runner
	resp, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	// Four fit under max_runners; the newest job comes back.
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[4].MessageId {
		t.Fatalf("retried %+v, want only the newest job", resp.BatchItemFailures)
	}

	live, err := ec2fleet.List(ctx, ec2c, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}, RunnerConfig: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 4 {
		t.Fatalf("%d instances, want 4 (max_runners)", len(live))
	}
	wantJobs := ec2fleet.FormatJobIDs(jobIDs[:4])
	for _, i := range live {
		for k, v := range map[string]string{tags.Environment: "ghr", tags.RunnerConfig: "linux", tags.Type: "org",
			tags.Owner: "octo", tags.JobID: wantJobs, tags.CreatedBy: tags.CreatedByScaleUp} {
			if i.Tags[k] != v {
				t.Errorf("instance %s: tag %s = %q, want %q", i.ID, k, i.Tags[k], v)
			}
		}
		p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(runnertoken.Path("ghr", "linux", i.ID)), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Fatalf("token of %s: %v", i.ID, err)
		}
		if p.Parameter.Type != ssmtypes.ParameterTypeSecureString {
			t.Errorf("token of %s is %s", i.ID, p.Parameter.Type)
		}
		if _, err := gh.ConnectJIT(aws.ToString(p.Parameter.Value)); err != nil {
			t.Fatalf("GitHub refuses the JIT config stored for %s: %v", i.ID, err)
		}
	}
	var names []string
	for _, r := range gh.Runners() {
		if !r.JIT || !slices.Equal(r.Labels, []string{"self-hosted", "linux"}) {
			t.Errorf("runner %+v: want a JIT runner with the config's labels", r)
		}
		names = append(names, r.Name)
	}
	for _, i := range live {
		if !slices.Contains(names, tags.RunnerName("ghr-", i.ID)) {
			t.Errorf("no runner named for instance %s in %v", i.ID, names)
		}
	}

	// Redelivering the whole batch launches nothing: the cap holds and served jobs are known.
	resp, err = h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ec2fleet.List(ctx, ec2c, ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}}); len(again) != 4 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("after redelivery: %d instances, retried %d; want 4 and the newest job", len(again), len(resp.BatchItemFailures))
	}
}
