package main

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/testutil/functest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

// asFunction makes the test binary run main() when lambdahost starts it as the function.
const asFunction = "GHR_TEST_RUN_CLEANUP_MAIN"

func TestMain(m *testing.M) { functest.Main(m, asFunction, main) }

// TestCleanupFunction runs the real main() as a Lambda against moto and a fake GitHub: a
// completed job's ephemeral runner is terminated and deregistered.
func TestCleanupFunction(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Start(t)
	api := ec2.NewFromConfig(moto.AWSConfig())
	out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ec2fleettest.Template(t, api))},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			{Key: aws.String(tags.Environment), Value: aws.String("ghr")}, {Key: aws.String(tags.RunnerConfig), Value: aws.String("eph")},
			{Key: aws.String(tags.Type), Value: aws.String(tags.TypeOrg)}, {Key: aws.String(tags.Owner), Value: aws.String("octo")}, {Key: aws.String(tags.CreatedBy), Value: aws.String(tags.CreatedByScaleUp)},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	rid := gh.AddRunner("orgs/octo", "ghr-"+id, true, false)
	// scale-up's ghr:registered call records the runner id clean-up matches on
	if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{
		{Key: aws.String(tags.RunnerIDKey(id)), Value: aws.String(strconv.FormatInt(rid, 10))},
	}}); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"PREFIX": "ghr", "LOG_LEVEL": "warn",
		"GITHUB_APP_ID": "1", "GITHUB_APP_KEY": string(ghfake.TestKey(t)), "GITHUB_API_URL": gh.URL,
		"RUNNER_CONFIGS": `[{"key":"eph","labels":["linux"],"queue_url":"q","ephemeral":true,"launch_template_id":"` + ec2fleettest.Template(t, api) + `"}]`}
	h := functest.Host(t, asFunction, lambdahost.Function{Name: "ghr-cleanup", Env: env, MemoryMB: 128}, moto.Env())

	body, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionCompleted, JobID: 1, Repo: "octo/app", Owner: "octo",
		RunnerID: rid, RunnerName: "ghr-" + id, DeliveryID: "d1", At: time.Now()})
	ev, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body), EventSource: "aws:sqs"}}})
	res, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %s: %v", res, err)
	}
	d, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.Reservations[0].Instances[0].State.Name; st == types.InstanceStateNameRunning || st == types.InstanceStateNamePending {
		t.Errorf("instance %s is %s after its job completed", id, st)
	}
	if n := len(gh.Runners("orgs/octo")); n != 0 {
		t.Errorf("registrations left = %d, want 0", n)
	}
}
