package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/testutil/functest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// asFunction makes the test binary run main() when lambdahost starts it as the function.
const asFunction = "GHR_TEST_RUN_SCALE_UP_MAIN"

func TestMain(m *testing.M) { functest.Main(m, asFunction, main) }

// TestScaleUpFunction runs the real main() as a Lambda against moto and the GitHub simulator:
// it reads its env, loads the App and runner configs, and turns an SQS batch into a
// registered instance, reporting the invalid message as handled, not as a failure.
func TestScaleUpFunction(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	moto := awsproxy.InFront(t, motoserver.Start(t)) // EC2's template tags on fleet launches
	awsCfg := moto.AWSConfig()
	world := ec2fleettest.Setup(t, ec2.NewFromConfig(awsCfg))

	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	gh, inst := ghsim.StartOrg(t, ctx, ghsim.Options{PrivateKeyPEM: keyPEM}, "octo", "app")

	env := map[string]string{"PREFIX": "ghr", "LOG_LEVEL": "warn",
		"GITHUB_APP_ID": fmt.Sprint(gh.AppID()), "GITHUB_APP_KEY": string(keyPEM), "GITHUB_API_URL": gh.URL,
		"RUNNER_CONFIGS": fmt.Sprintf(`[{"key":"linux","labels":["self-hosted","linux"],"queue_url":"q","ephemeral":true,"max_runners":-1,
			"launch_template":%q,"launch_template_id":%q,"instance_types":["t3.micro"],"subnet_ids":[%q]}]`, world.LaunchTemplate, world.LaunchTemplateID, world.SubnetIDs[0])}
	h := functest.Host(t, asFunction, lambdahost.Function{Name: "ghr-scale-up", Env: env, MemoryMB: 256}, moto.Env())

	body, err := json.Marshal(queue.Job{V: queue.Version, JobID: 77, RunID: 5, Repo: "octo/app", Owner: "octo", OwnerType: "Organization",
		Level: queue.LevelOrg, InstallationID: inst.ID, Labels: []string{"self-hosted", "linux"}, DeliveryID: "d1", RunnerConfig: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}, EventSource: "aws:sqs"},
		{MessageId: "m2", Body: `{"v":99}`, Attributes: map[string]string{"ApproximateReceiveCount": "1"}, EventSource: "aws:sqs"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %s (%v): want no failures", out, err)
	}
	live, err := ec2fleet.List(ctx, ec2.NewFromConfig(awsCfg), ec2fleet.Filter{Environment: "ghr", LaunchTemplates: []string{world.LaunchTemplateID}, RunnerConfig: "linux"})
	if err != nil || len(live) != 1 {
		t.Fatalf("instances %v (%v), want 1", live, err)
	}
	if _, err := ssm.NewFromConfig(awsCfg).GetParameter(ctx, &ssm.GetParameterInput{
		Name: aws.String(runnertoken.Path("ghr", "linux", live[0].ID)), WithDecryption: aws.Bool(true),
	}); err != nil {
		t.Fatalf("token parameter: %v", err)
	}
	if rs := gh.Runners(); len(rs) != 1 || rs[0].Name != "ghr-"+live[0].ID {
		t.Fatalf("runners %+v, want ghr-%s", rs, live[0].ID)
	}
}
