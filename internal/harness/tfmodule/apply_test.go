package tfmodule

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// What the apply test deploys and expects.
const (
	testPrefix    = "ghr-it"
	testAppID     = "424242"
	testSecret    = "it-webhook-secret-0123456789"
	testAPIURL    = "http://127.0.0.1:9/api/v3" // never called: nothing is invoked
	parallelism   = 20                          // the emulator answers in parallel; the provider's waits dominate
	applyDeadline = 6 * time.Minute
)

// testPEM is the App key the apply deploys: generated per run (an Ed25519 key is instant), so
// no key material lives in the repository.
var testPEM = sync.OnceValue(func() string {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

// functionNames are the functions examples/local deploys with a warm pool.
var functionNames = []string{"cleanup", "pool", "redeliver", "scale-down", "scale-up", "spot-interruption", "syncer", "webhook"}

// syncerOptional are the syncer's credentials it may do without (it uses the App here).
var syncerOptional = []string{"GITHUB_TOKEN", "GITHUB_TOKEN_PARAMETER"}

// TestApplyDestroyLocal applies examples/local to a fresh moto_server, checks what was
// created through the AWS APIs (functions and their environment against internal/config,
// mappings, queues, schedules, launch templates, parameters, the HTTP route, the bucket),
// destroys it and checks nothing of the deployment is left.
func TestApplyDestroyLocal(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	t.Parallel() // mostly waits on the provider's polling: overlap it with the other checks
	ctx, cancel := context.WithTimeout(context.Background(), applyDeadline)
	defer cancel()
	moto := motoserver.Start(t)
	ws := workspace(t, "examples/local")
	dist := fixtureZips(t)
	state := filepath.Join(ws.DataDir, "terraform.tfstate")
	varFile := filepath.Join(ws.DataDir, "local.tfvars.json")
	writeJSON(t, varFile, localVars(moto.URL, dist))

	start := time.Now()
	//nolint:staticcheck // -state keeps the example directory free of state files
	if err := ws.TF.Apply(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("apply: %v", err)
	}
	applied := time.Since(start)
	st, err := ws.TF.ShowStateFile(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("apply: %d resources in %s", countResources(st.Values.RootModule), applied.Round(time.Second))

	//nolint:staticcheck // see Apply
	outs, err := ws.TF.Output(ctx, tfexec.State(state))
	if err != nil {
		t.Fatal(err)
	}
	cfg := moto.AWSConfig()
	d := readDeployment(ctx, t, cfg)

	t.Run("functions", func(t *testing.T) { checkFunctions(t, d) })
	t.Run("env contract", func(t *testing.T) { checkContract(t, d) })
	t.Run("runner configs", func(t *testing.T) { checkRunnerConfigs(ctx, t, cfg, d, outs) })
	t.Run("mappings", func(t *testing.T) { checkMappings(ctx, t, cfg, d, outs) })
	t.Run("queues", func(t *testing.T) { checkQueues(ctx, t, cfg, outs) })
	t.Run("schedules", func(t *testing.T) { checkSchedules(ctx, t, cfg, d) })
	t.Run("launch templates", func(t *testing.T) { checkLaunchTemplates(ctx, t, cfg) })
	t.Run("parameters", func(t *testing.T) { checkParameters(ctx, t, cfg) })
	t.Run("http api", func(t *testing.T) { checkRoute(ctx, t, cfg, d) })
	t.Run("bucket", func(t *testing.T) { checkBucket(ctx, t, cfg, outs) })

	if len(leftovers(ctx, t, cfg)) == 0 {
		t.Fatal("the leftovers check sees nothing of the applied deployment")
	}
	start = time.Now()
	// The state is exact (nothing changed since apply): skipping the refresh halves destroy.
	//nolint:staticcheck // see Apply
	if err := ws.TF.Destroy(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Refresh(false), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	t.Logf("destroy: %s", time.Since(start).Round(time.Second))
	if left := leftovers(ctx, t, cfg); len(left) > 0 {
		t.Errorf("destroy left %d things behind:\n%s", len(left), strings.Join(left, "\n"))
	}
}

// deployment is what the emulator reports of the deployed functions.
type deployment struct {
	functions map[string]lambdatypes.FunctionConfiguration // by short name
	reserved  map[string]int32
}

func readDeployment(ctx context.Context, t *testing.T, cfg aws.Config) *deployment {
	t.Helper()
	lc := lambda.NewFromConfig(cfg)
	d := &deployment{functions: map[string]lambdatypes.FunctionConfiguration{}, reserved: map[string]int32{}}
	p := lambda.NewListFunctionsPaginator(lc, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Functions {
			short, ok := strings.CutPrefix(aws.ToString(f.FunctionName), testPrefix+"-")
			if !ok {
				continue
			}
			got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: f.FunctionName})
			if err != nil {
				t.Fatal(err)
			}
			d.functions[short] = *got.Configuration
			if got.Concurrency != nil {
				d.reserved[short] = aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions)
			}
		}
	}
	return d
}

func (d *deployment) env(fn string) map[string]string {
	if c, ok := d.functions[fn]; ok && c.Environment != nil {
		return c.Environment.Variables
	}
	return nil
}

func checkFunctions(t *testing.T, d *deployment) {
	if got := slices.Sorted(maps.Keys(d.functions)); !slices.Equal(got, functionNames) {
		t.Fatalf("functions %v, want %v", got, functionNames)
	}
	for name, f := range d.functions {
		if f.Runtime != lambdatypes.RuntimeProvidedal2023 || aws.ToString(f.Handler) != "bootstrap" {
			t.Errorf("%s: runtime %s handler %s, want provided.al2023 and bootstrap", name, f.Runtime, aws.ToString(f.Handler))
		}
		if len(f.Architectures) != 1 || f.Architectures[0] != lambdatypes.ArchitectureArm64 {
			t.Errorf("%s: architectures %v, want arm64", name, f.Architectures)
		}
		if f.Environment == nil || f.Environment.Variables["PREFIX"] != testPrefix {
			t.Errorf("%s: PREFIX is not %s", name, testPrefix)
		}
	}
	// Passes that must not overlap run one at a time.
	for _, fn := range []string{"scale-down", "pool", "redeliver", "syncer"} {
		if d.reserved[fn] != 1 {
			t.Errorf("%s: reserved concurrency %d, want 1", fn, d.reserved[fn])
		}
	}
	if got := aws.ToInt32(d.functions["scale-down"].Timeout); got < 120 {
		t.Errorf("scale-down timeout %ds: its paced DELETEs need minutes", got)
	}
}

// checkContract runs each function's own internal/config reader on the environment the module
// gave it: it must validate, every variable the module set must be read, and every variable
// read must be set (or be the other half of a value/_PARAMETER pair).
func checkContract(t *testing.T, d *deployment) {
	for fn := range Readers {
		env := d.env(fn)
		if env == nil {
			t.Errorf("%s: not deployed", fn)
			continue
		}
		// GITHUB_APPS is set only when github_apps lists more Apps (terraform/main.tf).
		optional := []string{"GITHUB_APPS"}
		if fn == "syncer" {
			optional = append(optional, syncerOptional...)
		}
		for _, p := range ContractProblems(fn, env, optional) {
			t.Error(p)
		}
	}
	for fn := range d.functions {
		if _, ok := Readers[fn]; !ok {
			t.Errorf("deployed function %s has no reader in tfmodule.Readers", fn)
		}
	}
	// Secrets travel by parameter name only.
	for fn := range d.functions {
		for k, v := range d.env(fn) {
			if v == testSecret || strings.Contains(v, "PRIVATE KEY") || v == base64.StdEncoding.EncodeToString([]byte(testPEM())) {
				t.Errorf("%s: %s carries a secret in the environment", fn, k)
			}
		}
	}
	want := map[string]string{
		"GITHUB_APP_ID_PARAMETER":  "/" + testPrefix + "/app/id",
		"GITHUB_APP_KEY_PARAMETER": "/" + testPrefix + "/app/key",
		"GITHUB_API_URL":           testAPIURL,
	}
	for k, v := range want {
		if got := d.env("scale-up")[k]; got != v {
			t.Errorf("scale-up %s = %q, want %q", k, got, v)
		}
	}
	if got := d.env("webhook")["WEBHOOK_SECRET_PARAMETER"]; got != "/"+testPrefix+"/app/webhook-secret" {
		t.Errorf("webhook WEBHOOK_SECRET_PARAMETER = %q", got)
	}
	if d.env("webhook")["LIFECYCLE_QUEUE_URL"] == "" {
		t.Error("webhook: no LIFECYCLE_QUEUE_URL although small and large are ephemeral")
	}
	if !strings.HasPrefix(d.env("scale-up")["TOKEN_KMS_KEY_ID"], "arn:aws:kms:") {
		t.Errorf("scale-up TOKEN_KMS_KEY_ID = %q, want the module key's ARN", d.env("scale-up")["TOKEN_KMS_KEY_ID"])
	}
}

func checkRunnerConfigs(ctx context.Context, t *testing.T, cfg aws.Config, d *deployment, outs map[string]tfexec.OutputMeta) {
	raw := d.env("scale-up")["RUNNER_CONFIGS"]
	if raw == "" {
		t.Fatal("scale-up: RUNNER_CONFIGS not inline for three small configs")
	}
	for fn := range d.functions {
		if env := d.env(fn); env["RUNNER_CONFIGS"] != "" && env["RUNNER_CONFIGS"] != raw {
			t.Errorf("%s reads other runner configs than scale-up", fn)
		}
	}
	cfgs, err := config.ParseRunnerConfigs([]byte(raw))
	if err != nil {
		t.Fatalf("RUNNER_CONFIGS does not parse: %v", err)
	}
	var queues map[string]struct{ URL string }
	decodeOutput(t, outs, "build_queues", &queues)
	lts, err := ec2.NewFromConfig(cfg).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ids := map[string]string{} // name → id
	for _, lt := range lts.LaunchTemplates {
		names[aws.ToString(lt.LaunchTemplateName)] = true
		ids[aws.ToString(lt.LaunchTemplateName)] = aws.ToString(lt.LaunchTemplateId)
	}
	if len(cfgs) != 3 || cfgs[0].Key != "small" || cfgs[1].Key != "large" || cfgs[2].Key != "persistent" {
		t.Fatalf("runner configs %+v, want small, large, then persistent (by priority)", cfgs)
	}
	for _, c := range cfgs {
		if c.QueueURL != queues[c.Key].URL {
			t.Errorf("%s: queue_url %s, want its build queue %s", c.Key, c.QueueURL, queues[c.Key].URL)
		}
		if !names[c.LaunchTemplate] {
			t.Errorf("%s: launch template %s does not exist", c.Key, c.LaunchTemplate)
		}
		// The functions recognise their instances by EC2's aws:ec2launchtemplate:id tag.
		if c.LaunchTemplateID == "" || c.LaunchTemplateID != ids[c.LaunchTemplate] {
			t.Errorf("%s: launch_template_id %q, want %s's id %q", c.Key, c.LaunchTemplateID, c.LaunchTemplate, ids[c.LaunchTemplate])
		}
		if wantEphemeral := c.Key != "persistent"; len(c.SubnetIDs) == 0 || c.Match != config.MatchExact || c.Ephemeral != wantEphemeral {
			t.Errorf("%s: subnets %v, match %s, ephemeral %v", c.Key, c.SubnetIDs, c.Match, c.Ephemeral)
		}
	}
	if cfgs[0].PoolSize != 1 || cfgs[0].PoolOwner != "octo-org" || cfgs[1].CapacityType != config.CapacityOnDemand {
		t.Errorf("small pool %d/%s, large capacity %s", cfgs[0].PoolSize, cfgs[0].PoolOwner, cfgs[1].CapacityType)
	}
}

func checkMappings(ctx context.Context, t *testing.T, cfg aws.Config, d *deployment, outs map[string]tfexec.OutputMeta) {
	lc := lambda.NewFromConfig(cfg)
	var queues map[string]struct{ ARN string }
	decodeOutput(t, outs, "build_queues", &queues)
	var lifecycle struct{ ARN string }
	decodeOutput(t, outs, "lifecycle_queue", &lifecycle)
	want := map[string][]string{"scale-up": nil, "cleanup": {lifecycle.ARN}}
	for _, q := range queues {
		want["scale-up"] = append(want["scale-up"], q.ARN)
	}
	for fn, arns := range want {
		out, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: d.functions[fn].FunctionName})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range out.EventSourceMappings {
			got = append(got, aws.ToString(m.EventSourceArn))
			if !slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures) {
				t.Errorf("%s ← %s: no ReportBatchItemFailures", fn, aws.ToString(m.EventSourceArn))
			}
			if aws.ToInt32(m.BatchSize) != 10 {
				t.Errorf("%s ← %s: batch size %d, want 10", fn, aws.ToString(m.EventSourceArn), aws.ToInt32(m.BatchSize))
			}
			if fn == "scale-up" && (m.ScalingConfig == nil || aws.ToInt32(m.ScalingConfig.MaximumConcurrency) < 2) {
				t.Errorf("scale-up ← %s: maximum concurrency unset or serialising", aws.ToString(m.EventSourceArn))
			}
		}
		slices.Sort(got)
		slices.Sort(arns)
		if !slices.Equal(got, arns) {
			t.Errorf("%s is fed by %v, want %v", fn, got, arns)
		}
	}
}

func checkQueues(ctx context.Context, t *testing.T, cfg aws.Config, outs map[string]tfexec.OutputMeta) {
	sc := sqs.NewFromConfig(cfg)
	var queues map[string]struct {
		URL    string
		DLQARN string `json:"dlq_arn"`
	}
	decodeOutput(t, outs, "build_queues", &queues)
	for key, q := range queues {
		got, err := sc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var redrive struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     any    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(got.Attributes["RedrivePolicy"]), &redrive); err != nil || redrive.DeadLetterTargetArn != q.DLQARN {
			t.Errorf("%s: redrive %q, want to %s", key, got.Attributes["RedrivePolicy"], q.DLQARN)
		}
		if got.Attributes["SqsManagedSseEnabled"] != "true" {
			t.Errorf("%s: not encrypted (SqsManagedSseEnabled=%q)", key, got.Attributes["SqsManagedSseEnabled"])
		}
	}
}

func checkSchedules(ctx context.Context, t *testing.T, cfg aws.Config, d *deployment) {
	sc := scheduler.NewFromConfig(cfg)
	list, err := sc.ListSchedules(ctx, &scheduler.ListSchedulesInput{NamePrefix: aws.String(testPrefix + "-")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range list.Schedules {
		full, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: s.Name, GroupName: s.GroupName})
		if err != nil {
			t.Fatal(err)
		}
		short := strings.TrimPrefix(aws.ToString(full.Name), testPrefix+"-")
		got[short] = true
		if aws.ToString(full.Target.Arn) != aws.ToString(d.functions[short].FunctionArn) {
			t.Errorf("schedule %s targets %s", short, aws.ToString(full.Target.Arn))
		}
		if aws.ToString(full.ScheduleExpressionTimezone) == "" {
			t.Errorf("schedule %s has no time zone", short)
		}
	}
	for _, fn := range []string{"scale-down", "pool", "redeliver", "syncer"} {
		if !got[fn] {
			t.Errorf("no schedule invokes %s (have %v)", fn, got)
		}
	}
}

func checkLaunchTemplates(ctx context.Context, t *testing.T, cfg aws.Config) {
	ec := ec2.NewFromConfig(cfg)
	for _, key := range []string{"small", "large", "persistent"} {
		name := testPrefix + "-" + key
		out, err := ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String(name), Versions: []string{"$Default"}})
		if err != nil || len(out.LaunchTemplateVersions) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		data := out.LaunchTemplateVersions[0].LaunchTemplateData
		if data.MetadataOptions == nil || data.MetadataOptions.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired ||
			data.MetadataOptions.InstanceMetadataTags != ec2types.LaunchTemplateInstanceMetadataTagsStateEnabled {
			t.Errorf("%s: IMDSv2 not required or instance tags not in IMDS: %+v", name, data.MetadataOptions)
		}
		if len(data.BlockDeviceMappings) != 1 || data.BlockDeviceMappings[0].Ebs == nil || !aws.ToBool(data.BlockDeviceMappings[0].Ebs.Encrypted) {
			t.Errorf("%s: root volume not encrypted", name)
		}
		if data.InstanceInitiatedShutdownBehavior != ec2types.ShutdownBehaviorTerminate {
			t.Errorf("%s: shutdown behaviour %s, want terminate", name, data.InstanceInitiatedShutdownBehavior)
		}
		script := userData(t, aws.ToString(data.UserData))
		for _, want := range []string{"GHR_ENVIRONMENT='" + testPrefix + "'", "GHR_RUNNER_CONFIG='" + key + "'", "GHR_DIST_BUCKET='" + testPrefix + "-dist-"} {
			if !strings.Contains(script, want) {
				t.Errorf("%s: user data lacks %s", name, want)
			}
		}
		tags := map[string]string{}
		for _, ts := range data.TagSpecifications {
			for _, tag := range ts.Tags {
				tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
		}
		if tags["ghr:environment"] != testPrefix || tags["ghr:runner-config"] != key {
			t.Errorf("%s: tag specifications %v", name, tags)
		}
	}
}

// userData decodes base64 of gzip (cloud-init unpacks gzip user data).
func userData(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("user data is not gzip: %v", err)
	}
	script, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(script)
}

func checkParameters(ctx context.Context, t *testing.T, cfg aws.Config) {
	sc := ssm.NewFromConfig(cfg)
	want := map[string]string{
		"/" + testPrefix + "/app/id":             testAppID,
		"/" + testPrefix + "/app/key":            base64.StdEncoding.EncodeToString([]byte(testPEM())),
		"/" + testPrefix + "/app/webhook-secret": testSecret,
	}
	for name, v := range want {
		got, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Parameter.Type != ssmtypes.ParameterTypeSecureString || aws.ToString(got.Parameter.Value) != v {
			t.Errorf("%s: type %s, value differs from the input: %v", name, got.Parameter.Type, aws.ToString(got.Parameter.Value) != v)
		}
	}
}

func checkRoute(ctx context.Context, t *testing.T, cfg aws.Config, d *deployment) {
	ac := apigatewayv2.NewFromConfig(cfg)
	apis, err := ac.GetApis(ctx, &apigatewayv2.GetApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, api := range apis.Items {
		if aws.ToString(api.Name) != testPrefix+"-webhook" {
			continue
		}
		routes, err := ac.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: api.ApiId})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes.Items {
			integID, _ := strings.CutPrefix(aws.ToString(r.Target), "integrations/")
			integ, err := ac.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: api.ApiId, IntegrationId: aws.String(integID)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(r.RouteKey) == "POST /webhook" && strings.Contains(aws.ToString(integ.IntegrationUri), aws.ToString(d.functions["webhook"].FunctionArn)) &&
				aws.ToString(integ.PayloadFormatVersion) == "2.0" {
				found = true
			}
		}
	}
	if !found {
		t.Error("no HTTP API routes POST /webhook to the webhook function with payload 2.0")
	}
}

func checkBucket(ctx context.Context, t *testing.T, cfg aws.Config, outs map[string]tfexec.OutputMeta) {
	var b struct{ Name string }
	decodeOutput(t, outs, "dist_bucket", &b)
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	v, err := sc.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.Name)})
	if err != nil || v.Status != "Enabled" {
		t.Errorf("%s: versioning %v (%v)", b.Name, v, err)
	}
	enc, err := sc.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.Name)})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) == 0 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "aws:kms" {
		t.Errorf("%s: not KMS-encrypted (%v)", b.Name, err)
	}
	pab, err := sc.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.Name)})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("%s: public access not blocked (%v)", b.Name, err)
	}
	objs, err := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String("lambda/")})
	if err != nil || len(objs.Contents) != len(functionNames) {
		t.Errorf("%s: %d function zips under lambda/ (%v), want %d", b.Name, len(objs.Contents), err, len(functionNames))
	}
}

// leftovers lists what of the deployment still exists in the emulator. The KMS key cannot be
// deleted at once; it must be pending deletion.
func leftovers(ctx context.Context, t *testing.T, cfg aws.Config) []string {
	t.Helper()
	var left []string
	add := func(kind, name string) {
		if strings.Contains(name, testPrefix) {
			left = append(left, kind+" "+name)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	fns, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	must(err)
	for _, f := range fns.Functions {
		add("function", aws.ToString(f.FunctionName))
	}
	esms, err := lambda.NewFromConfig(cfg).ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
	must(err)
	for _, m := range esms.EventSourceMappings {
		add("event source mapping", aws.ToString(m.EventSourceArn))
	}
	qs, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	must(err)
	for _, q := range qs.QueueUrls {
		add("queue", q)
	}
	ps, err := ssm.NewFromConfig(cfg).DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	must(err)
	for _, p := range ps.Parameters {
		add("parameter", aws.ToString(p.Name))
	}
	ec := ec2.NewFromConfig(cfg)
	lts, err := ec.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	must(err)
	for _, lt := range lts.LaunchTemplates {
		add("launch template", aws.ToString(lt.LaunchTemplateName))
	}
	sgs, err := ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	must(err)
	for _, g := range sgs.SecurityGroups {
		add("security group", aws.ToString(g.GroupName))
	}
	ss, err := scheduler.NewFromConfig(cfg).ListSchedules(ctx, &scheduler.ListSchedulesInput{})
	must(err)
	for _, s := range ss.Schedules {
		add("schedule", aws.ToString(s.Name))
	}
	apis, err := apigatewayv2.NewFromConfig(cfg).GetApis(ctx, &apigatewayv2.GetApisInput{})
	must(err)
	for _, a := range apis.Items {
		add("http api", aws.ToString(a.Name))
	}
	bs, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	must(err)
	for _, b := range bs.Buckets {
		add("bucket", aws.ToString(b.Name))
	}
	ic := iam.NewFromConfig(cfg)
	roles, err := ic.ListRoles(ctx, &iam.ListRolesInput{})
	must(err)
	for _, r := range roles.Roles {
		add("role", aws.ToString(r.RoleName))
	}
	profiles, err := ic.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	must(err)
	for _, p := range profiles.InstanceProfiles {
		add("instance profile", aws.ToString(p.InstanceProfileName))
	}
	lgs, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	must(err)
	for _, g := range lgs.LogGroups {
		add("log group", aws.ToString(g.LogGroupName))
	}
	kc := kms.NewFromConfig(cfg)
	keys, err := kc.ListKeys(ctx, &kms.ListKeysInput{})
	must(err)
	for _, k := range keys.Keys {
		dk, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		must(err)
		if m := dk.KeyMetadata; strings.Contains(aws.ToString(m.Description), testPrefix) && m.KeyState != kmstypes.KeyStatePendingDeletion {
			left = append(left, "kms key "+aws.ToString(m.KeyId)+" in state "+string(m.KeyState))
		}
	}
	aliases, err := kc.ListAliases(ctx, &kms.ListAliasesInput{})
	must(err)
	for _, a := range aliases.Aliases {
		add("kms alias", aws.ToString(a.AliasName))
	}
	return left
}

// fixtureZips writes a zip per function (a bootstrap that only names itself: nothing is
// invoked in this test) and returns their directory.
func fixtureZips(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range functionNames {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "#!/bin/sh\necho "+name+"\n"); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".zip"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func decodeOutput(t *testing.T, outs map[string]tfexec.OutputMeta, name string, v any) {
	t.Helper()
	o, ok := outs[name]
	if !ok {
		t.Fatalf("no output %s", name)
	}
	if err := json.Unmarshal(o.Value, v); err != nil {
		t.Fatalf("output %s: %v", name, err)
	}
}

func countResources(m *tfjson.StateModule) int {
	if m == nil {
		return 0
	}
	n := 0
	for _, r := range m.Resources {
		if r.Mode == tfjson.ManagedResourceMode {
			n++
		}
	}
	for _, c := range m.ChildModules {
		n += countResources(c)
	}
	return n
}
