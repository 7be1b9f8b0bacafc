package sandbox

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// The test binary doubles as a deployed function: with sandboxFunctionEnv set it answers
// HTTP API events with the environment it sees, as the real webhook binary would.
const sandboxFunctionEnv = "SANDBOX_TEST_FUNCTION"

func TestMain(m *testing.M) {
	if os.Getenv(sandboxFunctionEnv) == "" {
		os.Exit(m.Run())
	}
	awslambda.Start(func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 202, Body: os.Getenv("PREFIX") + "|" + os.Getenv("AWS_ENDPOINT_URL") + "|" + ev.Body}, nil
	})
}

// selfZip zips this test binary as `bootstrap`, like `make dist` does for a real function.
func selfZip(t *testing.T, dir string) []byte {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fn.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Store}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	src, _ := os.Open(self)
	io.Copy(w, src)
	src.Close()
	zw.Close()
	f.Close()
	b, _ := os.ReadFile(path)
	return b
}

func TestDiscoverAndWire(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Start(t)
	cfg := moto.AWSConfig()
	dist := t.TempDir()
	code := selfZip(t, dist)

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	for _, name := range []string{"ghr-webhook", "ghr-scale-up", "ghr-scale-down", "other-fn"} {
		_, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
			Code: &lambdatypes.FunctionCode{ZipFile: code}, Timeout: aws.Int32(7), MemorySize: aws.Int32(256),
			Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureX8664},
			Environment:   &lambdatypes.Environment{Variables: map[string]string{"PREFIX": "ghr", sandboxFunctionEnv: "1"}},
		})
		if err != nil {
			t.Fatalf("create function %s: %v", name, err)
		}
	}
	sc := sqs.NewFromConfig(cfg)
	q, err := sc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ghr-build-small")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("ghr-scale-up"), EventSourceArn: aws.String("arn:aws:sqs:us-east-1:123456789012:ghr-build-small"),
		BatchSize: aws.Int32(20), MaximumBatchingWindowInSeconds: aws.Int32(2),
		FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
	})
	if err != nil {
		t.Fatal(err)
	}
	ec := eventbridge.NewFromConfig(cfg)
	if _, err := ec.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("ghr-scale-down"), ScheduleExpression: aws.String("rate(5 minutes)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("ghr-scale-down"), Targets: []ebtypes.Target{{Id: aws.String("fn"), Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:ghr-scale-down")}}}); err != nil {
		t.Fatal(err)
	}
	ac := apigatewayv2.NewFromConfig(cfg)
	api, err := ac.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("ghr-webhook"), ProtocolType: "HTTP"})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := ac.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: "AWS_PROXY", PayloadFormatVersion: aws.String("2.0"),
		IntegrationUri: aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:ghr-webhook/invocations")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("POST /webhook"), Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		t.Fatal(err)
	}

	d, err := Discover(ctx, cfg, "ghr-")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Functions) != 3 || d.Functions["ghr-webhook"].Timeout != 7*time.Second || d.Functions["ghr-webhook"].Env["PREFIX"] != "ghr" {
		t.Fatalf("functions = %+v", d.Functions)
	}
	if len(d.Mappings) != 1 || d.Mappings[0].BatchSize != 20 || d.Mappings[0].BatchingWindow != 2*time.Second ||
		!d.Mappings[0].ReportBatchItemFailures || d.Mappings[0].QueueURL != aws.ToString(q.QueueUrl) {
		t.Fatalf("mappings = %+v", d.Mappings)
	}
	if len(d.Schedules) != 1 || d.Schedules[0].Function != "ghr-scale-down" || d.Schedules[0].Every != 5*time.Minute {
		t.Fatalf("schedules = %+v", d.Schedules)
	}
	if len(d.Routes) != 1 || d.Routes[0] != (RouteSpec{RouteKey: "POST /webhook", Function: "ghr-webhook"}) {
		t.Fatalf("routes = %+v", d.Routes)
	}

	// Each function runs as its own execution role.
	assumed := map[string]string{}
	creds := func(_ context.Context, roleARN, session string) (aws.Credentials, error) {
		assumed[session] = roleARN
		return aws.Credentials{AccessKeyID: "ASIA" + session, SecretAccessKey: "s", SessionToken: "t"}, nil
	}
	w, err := Wire(d, WireOptions{DistDir: dist, WorkDir: t.TempDir(), Endpoint: moto.URL, Speedup: 1, SQS: sc, Logs: io.Discard, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if len(assumed) != 3 || assumed["ghr-scale-up"] != aws.ToString(role.Role.Arn) {
		t.Fatalf("assumed roles %v, want each function's own role %s", assumed, aws.ToString(role.Role.Arn))
	}
	runCtx, cancel := context.WithCancel(ctx)
	if err := w.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); w.Stop() }()
	resp, err := http.Post(w.URL+"/webhook", "application/json", strings.NewReader(`{"hello":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(`ghr|%s|{"hello":1}`, moto.URL); resp.StatusCode != 202 || string(body) != want {
		t.Fatalf("webhook route answered %d %q, want 202 %q", resp.StatusCode, body, want)
	}
}

func TestWireRejectsUnknownCode(t *testing.T) {
	dist := t.TempDir()
	selfZip(t, dist)
	d := &Deployment{Functions: map[string]FunctionSpec{"ghr-x": {Name: "ghr-x", CodeSha256: "bm90IHRoZSBoYXNo"}}}
	_, err := Wire(d, WireOptions{DistDir: dist, WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run make dist") {
		t.Fatalf("err = %v, want a hint to rebuild", err)
	}
}

func TestScheduleInterval(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(1 hour)": time.Hour, "rate(2 days)": 48 * time.Hour,
		"cron(0/10 * * * ? *)": 10 * time.Minute, "cron(0 * * * ? *)": time.Hour,
	} {
		if got, err := ScheduleInterval(expr); err != nil || got != want {
			t.Errorf("ScheduleInterval(%q) = %s, %v; want %s", expr, got, err, want)
		}
	}
	for _, bad := range []string{"rate(0 minutes)", "rate(5 fortnights)", "cron(* * *)", "at(2026-01-01T00:00:00)"} {
		if _, err := ScheduleInterval(bad); err == nil {
			t.Errorf("ScheduleInterval(%q) accepted", bad)
		}
	}
}
