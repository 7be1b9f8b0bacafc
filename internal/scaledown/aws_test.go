package scaledown

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

// motoAMI is an image id moto accepts without a DescribeImages round (which costs seconds).
const motoAMI = "ami-12c6146b"

// runInstance launches an instance from the deployment's template, tagged kv.
func runInstance(t *testing.T, api *ec2.Client, kv map[string]string) string {
	t.Helper()
	return launchTagged(t, api, kv, &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ec2fleettest.Template(t, api))})
}

// launchTagged launches an instance tagged kv, from template lt or (nil) none.
func launchTagged(t *testing.T, api *ec2.Client, kv map[string]string, lt *types.LaunchTemplateSpecification) string {
	t.Helper()
	var ts []types.Tag
	for k, v := range kv {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := api.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), LaunchTemplate: lt,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: ts}},
	})
	if err != nil {
		t.Fatalf("run instances: %v", err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func describe(t *testing.T, api *ec2.Client, id string) (state string, kv map[string]string) {
	t.Helper()
	out, err := api.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	i := out.Reservations[0].Instances[0]
	kv = map[string]string{}
	for _, tg := range i.Tags {
		kv[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return string(i.State.Name), kv
}

// TestReconcileOnMoto runs two passes against moto_server (EC2 terminate and tags, SSM
// token clean-up) and the fake GitHub.
func TestReconcileOnMoto(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	awsCfg := motoserver.Start(t).AWSConfig()
	ec2api, ssmapi := ec2.NewFromConfig(awsCfg), ssm.NewFromConfig(awsCfg)
	runner := func(extra ...string) map[string]string {
		kv := map[string]string{tags.Environment: "ghr", tags.RunnerConfig: "small", tags.Type: tags.TypeOrg, tags.Owner: "octo", tags.CreatedBy: tags.CreatedByScaleUp}
		for i := 0; i < len(extra); i += 2 {
			kv[extra[i]] = extra[i+1]
		}
		return kv
	}
	idleID := runInstance(t, ec2api, runner())
	orphanID := runInstance(t, ec2api, runner())
	lateID := runInstance(t, ec2api, runner()) // registers between the passes
	protID := runInstance(t, ec2api, runner(tags.Protect, "true"))
	foreignID := runInstance(t, ec2api, runner(tags.Environment, "other"))

	store := runnertoken.Store{API: ssmapi, Prefix: "ghr"}
	for _, id := range []string{idleID, "i-0123456789abcdef0"} {
		if err := store.Put(ctx, "small", id, "jit"); err != nil {
			t.Fatal(err)
		}
	}

	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", prefix+idleID, true, false)
	now := time.Now().Add(time.Hour) // every instance is past boot and minimum running time
	r := &Reconciler{
		Fleet: EC2{API: ec2api, Prefix: "ghr", LaunchTemplates: []string{ec2fleettest.Template(t, ec2api)}}, GitHub: &GitHub{App: gh.App(t)}, Tokens: NewSSMTokens(store),
		Configs:          []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}},
		RunnerNamePrefix: prefix, Log: quietLog(), Now: func() time.Time { return now }, RelistDelay: time.Millisecond,
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 1 || res.Terminated != 1 || res.MarkedOrphans != 2 || res.TokensDeleted != 1 {
		t.Fatalf("first pass = %+v", res)
	}
	if st, _ := describe(t, ec2api, idleID); st == "running" {
		t.Errorf("idle instance still %s", st)
	}
	for _, id := range []string{orphanID, lateID} {
		if st, kv := describe(t, ec2api, id); st != "running" || kv[tags.Orphan] != now.UTC().Format(time.RFC3339) {
			t.Errorf("%s: state %s, orphan tag %q; want running and marked", id, st, kv[tags.Orphan])
		}
	}
	for _, id := range []string{protID, foreignID} {
		if st, kv := describe(t, ec2api, id); st != "running" || kv[tags.Orphan] != "" {
			t.Errorf("%s touched: state %s, tags %v", id, st, kv)
		}
	}

	gh.AddRunner("orgs/octo", prefix+lateID, true, true) // a slow boot registers and takes a job
	now = now.Add(5 * time.Minute)
	if res, err = r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Terminated != 1 || res.ClearedMarks != 1 || res.TokensDeleted != 1 {
		t.Fatalf("second pass = %+v", res)
	}
	if st, _ := describe(t, ec2api, orphanID); st == "running" {
		t.Errorf("orphan still %s after the second phase", st)
	}
	if st, kv := describe(t, ec2api, lateID); st != "running" || kv[tags.Orphan] != "" {
		t.Errorf("late registrant: state %s, orphan tag %q; want running and cleared", st, kv[tags.Orphan])
	}
	left, err := store.List(ctx, "")
	if err != nil || len(left) != 0 {
		t.Errorf("tokens left = %v, %v", left, err)
	}
}

// TestTerraformAwsGithubRunnerNeighbour: terraform-aws-github-runner in the same account with
// the same prefix tags its runners ghr:environment=<prefix> too, with its own keys
// (ghr:Application, ghr:created_by, ghr:Type, ghr:Owner). Today's main marked such an instance
// an orphan on the first pass and terminated it on the second; ghr must not touch its
// instances or registrations, while still reconciling its own.
func TestTerraformAwsGithubRunnerNeighbour(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	ec2api := ec2.NewFromConfig(motoserver.Start(t).AWSConfig())
	tgr := runInstance(t, ec2api, map[string]string{ // as its scale-up lambda and launch template tag them
		"ghr:environment": "ghr", "ghr:Application": "github-action-runner", "ghr:created_by": "scale-up-lambda",
		"ghr:Type": "Org", "ghr:Owner": "octo", "ghr:ssm_config_path": "/github-action-runners/ghr/runners/config",
		"ghr:runner_name_prefix": prefix,
	})
	mine := runInstance(t, ec2api, map[string]string{tags.Environment: "ghr", tags.RunnerConfig: "small", tags.Type: tags.TypeOrg,
		tags.Owner: "octo", tags.CreatedBy: tags.CreatedByScaleUp})

	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	tgrRunner := gh.AddRunner("orgs/octo", prefix+tgr, true, false) // idle, waiting for its jobs
	gh.AddRunner("orgs/octo", prefix+mine, true, false)
	now := time.Now().Add(time.Hour)
	r := &Reconciler{
		Fleet: EC2{API: ec2api, Prefix: "ghr", LaunchTemplates: []string{ec2fleettest.Template(t, ec2api)}}, GitHub: &GitHub{App: gh.App(t)},
		Configs:          []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}},
		RunnerNamePrefix: prefix, Log: quietLog(), Now: func() time.Time { return now }, RelistDelay: time.Millisecond,
	}
	for pass := range 2 {
		if _, err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if st, kv := describe(t, ec2api, tgr); st != "running" || kv[tags.Orphan] != "" {
			t.Fatalf("pass %d: the neighbour's instance is %s, tags %v", pass+1, st, kv)
		}
		now = now.Add(5 * time.Minute)
	}
	if got := gh.Runners("orgs/octo"); len(got) != 1 || got[0].ID != tgrRunner {
		t.Errorf("registrations left %+v, want only the neighbour's", got)
	}
	if st, _ := describe(t, ec2api, mine); st == "running" {
		t.Errorf("ghr's own idle runner is still %s: the neighbour test proves nothing", st)
	}
}

// TestForgedOwnershipTag: anyone with ec2:RunInstances and ec2:CreateTags in the account can
// give an instance every ghr tag; only EC2 gives it the deployment's launch template id, and
// (through the sandbox's proxy, as on AWS) nobody can add that tag afterwards. Today's main
// marked such an instance an orphan on the first pass and terminated it on the second.
func TestForgedOwnershipTag(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	ec2api := ec2.NewFromConfig(awsproxy.InFront(t, motoserver.Start(t)).AWSConfig())
	kv := map[string]string{tags.Environment: "ghr", tags.RunnerConfig: "small", tags.Type: tags.TypeOrg,
		tags.Owner: "octo", tags.CreatedBy: tags.CreatedByScaleUp}
	forged := launchTagged(t, ec2api, kv, nil)
	mine := runInstance(t, ec2api, kv)
	template := ec2fleettest.Template(t, ec2api)
	if _, err := ec2api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{forged},
		Tags: []types.Tag{{Key: aws.String(tags.LaunchTemplateID), Value: aws.String(template)}}}); err == nil {
		t.Fatal("CreateTags with an aws: key succeeded; EC2 refuses it")
	}

	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", prefix+mine, true, false)
	now := time.Now().Add(time.Hour)
	r := &Reconciler{
		Fleet: EC2{API: ec2api, Prefix: "ghr", LaunchTemplates: []string{template}}, GitHub: &GitHub{App: gh.App(t)},
		Configs:          []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}},
		RunnerNamePrefix: prefix, Log: quietLog(), Now: func() time.Time { return now }, RelistDelay: time.Millisecond,
	}
	for pass := range 2 {
		if _, err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if st, kv := describe(t, ec2api, forged); st != "running" || kv[tags.Orphan] != "" {
			t.Fatalf("pass %d: the forged instance is %s, tags %v", pass+1, st, kv)
		}
		now = now.Add(5 * time.Minute)
	}
	if st, _ := describe(t, ec2api, mine); st == "running" {
		t.Errorf("ghr's own idle runner is still %s: the forged case proves nothing", st)
	}
}
