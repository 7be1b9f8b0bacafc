package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/testutil/functest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

// asFunction makes the test binary run main() when lambdahost starts it as the function.
const asFunction = "GHR_TEST_RUN_SCALE_DOWN_MAIN"

func TestMain(m *testing.M) { functest.Main(m, asFunction, main) }

const scheduledEvent = `{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/ghr-scale-down"],"detail":{}}`

// TestScaleDownFunction runs the real main() as a Lambda against moto and a fake GitHub: it
// reads its env, loads the App, lists tokens, instances and runners, and leaves a young
// runner and a busy one alone.
func TestScaleDownFunction(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	moto := motoserver.Start(t)
	api := ec2.NewFromConfig(moto.AWSConfig())
	var ids []string
	for range 2 {
		out, err := api.RunInstances(context.Background(), &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ec2fleettest.Template(t, api))},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
				{Key: aws.String(tags.Environment), Value: aws.String("ghr")}, {Key: aws.String(tags.RunnerConfig), Value: aws.String("small")},
				{Key: aws.String(tags.Type), Value: aws.String(tags.TypeOrg)}, {Key: aws.String(tags.Owner), Value: aws.String("octo")}, {Key: aws.String(tags.CreatedBy), Value: aws.String(tags.CreatedByScaleUp)},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", "ghr-"+ids[0], true, false) // idle but younger than the minimum running time
	gh.AddRunner("orgs/octo", "ghr-"+ids[1], true, true)
	gh.AddRunner("orgs/octo", "laptop", false, false) // not ours

	env := map[string]string{"PREFIX": "ghr", "LOG_LEVEL": "warn",
		"GITHUB_APP_ID": "1", "GITHUB_APP_KEY": string(ghfake.TestKey(t)), "GITHUB_API_URL": gh.URL,
		"RUNNER_CONFIGS": `[{"key":"small","labels":["linux"],"queue_url":"q","ephemeral":true,"launch_template_id":"` + ec2fleettest.Template(t, api) + `"}]`}
	h := functest.Host(t, asFunction, lambdahost.Function{Name: "ghr-scale-down", Env: env, MemoryMB: 256}, moto.Env())

	out, err := h.Invoke(context.Background(), []byte(scheduledEvent))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var res scaledown.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	if want := (scaledown.Result{Instances: 2, Owners: 1}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if n := len(gh.Runners("orgs/octo")); n != 3 {
		t.Errorf("registrations left = %d, want 3", n)
	}
}
