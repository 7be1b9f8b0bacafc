package awsproxy

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// motoAccount is moto's default account id.
const motoAccount = "123456789012"

// authzWorld is a proxy in front of the shared emulator and a way to act as a role.
type authzWorld struct {
	t     *testing.T
	p     *Proxy
	srv   *httptest.Server
	admin aws.Config
}

func newAuthzWorld(t *testing.T) *authzWorld {
	slow.Skip(t, slow.Emulator)
	moto := motoserver.Shared(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.Close() })
	return &authzWorld{t: t, p: p, srv: srv, admin: motoproc.AWSConfig(moto.URL)}
}

// as creates role name with one inline policy and returns a config signed with its session.
func (w *authzWorld) as(name, session, policy string) aws.Config {
	w.t.Helper()
	ctx := context.Background()
	im := iam.NewFromConfig(w.admin)
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustLambda)})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("function"), PolicyDocument: aws.String(policy)}); err != nil {
		w.t.Fatal(err)
	}
	creds, err := w.p.Credentials(ctx, aws.ToString(role.Role.Arn), session)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := motoproc.AWSConfig(w.srv.URL)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	return cfg
}

func wantDenied(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), "is not authorized to perform") {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// A function reads only its own prefix's parameters, and decrypts them only with a key its
// policy and the key policy allow through SSM; the runner role is refused the App key even
// with Session Manager's ssm:GetParameter on everything.
func TestParameterAccessIsEvaluatedPerRole(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	admSSM := ssm.NewFromConfig(w.admin)
	admKMS := kms.NewFromConfig(w.admin)
	runnerARN := "arn:aws:iam::" + motoAccount + ":role/authz-runner"
	appKey, err := admKMS.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + motoAccount + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Principal":{"AWS":"` + runnerARN + `"},"Action":["kms:Decrypt"],"Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/authz/app/key", "/other/app/key"} {
		if _, err := admSSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("pem"), Type: ssmtypes.ParameterTypeSecureString,
			KeyId: appKey.KeyMetadata.Arn, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	readOwn := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:` + motoAccount + `:parameter/authz/app/*"},
		{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}}]}`
	fn := ssm.NewFromConfig(w.as("authz-scale-up", "scale-up", readOwn))
	get := func(c *ssm.Client, name string) error {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		return err
	}
	if err := get(fn, "/authz/app/key"); err != nil {
		t.Fatalf("own parameter: %v", err)
	}
	wantDenied(t, "another prefix's parameter", get(fn, "/other/app/key"), "AccessDeniedException")

	// Session Manager's managed policy allows ssm:GetParameter on everything; the key policy
	// still refuses the runner the App key.
	runner := ssm.NewFromConfig(w.as("authz-runner", "i-0123456789abcdef0", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"*"},
		{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`))
	err = get(runner, "/authz/app/key")
	wantDenied(t, "runner decrypting the App key", err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "kms:Decrypt") {
		t.Fatalf("the refusal names SSM's action, not KMS's: %v", err)
	}
	if _, err := runner.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/authz/app/key")}); err != nil {
		t.Fatalf("without decryption KMS is not used: %v", err)
	}
	if d := w.p.Denied(); d["ssm:GetParameter"] != 2 {
		t.Fatalf("denied = %v", d)
	}
}

// Tag changes are evaluated on the instance's own tags and the keys the call sets, as the
// module's MarkRegistered statement expects.
func TestCreateTagsIsEvaluatedOnTagsAndKeys(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	admEC2 := ec2.NewFromConfig(w.admin)
	run := func(env string) string {
		out, err := admEC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("ghr:environment"), Value: aws.String(env)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	own, foreign := run("authz"), run("someone-else")
	fn := ec2.NewFromConfig(w.as("authz-tagger", "scale-up", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateTags",
		"Resource":"arn:aws:ec2:us-east-1:`+motoAccount+`:instance/*",
		"Condition":{"StringEquals":{"ec2:ResourceTag/ghr:environment":"authz"},"ForAllValues:StringLike":{"aws:TagKeys":["ghr:registered","ghr:runner-id/i-*"]}}}]}`))
	tag := func(id string, keys ...string) error {
		var tags []ec2types.Tag
		for _, k := range keys {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String("1")})
		}
		_, err := fn.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags})
		return err
	}
	if err := tag(own, "ghr:registered", "ghr:runner-id/"+own); err != nil {
		t.Fatalf("allowed keys on an own instance: %v", err)
	}
	wantDenied(t, "a key outside the allowed list", tag(own, "ghr:registered", "Name"), "UnauthorizedOperation")
	wantDenied(t, "another deployment's instance", tag(foreign, "ghr:registered"), "UnauthorizedOperation")
	wantDenied(t, "terminate without a statement", func() error {
		_, err := fn.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{own}})
		return err
	}(), "UnauthorizedOperation")
}

// A launch from a template whose instance profile role the launcher may not pass fails
// inside CreateFleet's answer, as AWS reports it, and launches nothing.
func TestLaunchNeedsPassRoleAndTagsOnCreate(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	im := iam.NewFromConfig(w.admin)
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("authz-runner-host"), AssumeRolePolicyDocument: aws.String(trustLambda)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("authz-runner-host")}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("authz-runner-host"), RoleName: aws.String("authz-runner-host")}); err != nil {
		t.Fatal(err)
	}
	lt, err := ec2.NewFromConfig(w.admin).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("authz-runner"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
		ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro, IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("authz-runner-host")}}})
	if err != nil {
		t.Fatal(err)
	}
	ltARN := "arn:aws:ec2:us-east-1:" + motoAccount + ":launch-template/" + aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	base := `{"Effect":"Allow","Action":["ec2:CreateFleet","ec2:DescribeInstances"],"Resource":"*"},
		{"Effect":"Allow","Action":"ec2:RunInstances","Resource":["arn:aws:ec2:us-east-1:` + motoAccount + `:instance/*","arn:aws:ec2:us-east-1:` + motoAccount + `:volume/*"],
		 "Condition":{"StringEquals":{"aws:RequestTag/ghr:environment":"authz"},"ArnEquals":{"ec2:LaunchTemplate":"` + ltARN + `"}}},
		{"Effect":"Allow","Action":"ec2:RunInstances","NotResource":["arn:aws:ec2:us-east-1:` + motoAccount + `:instance/*","arn:aws:ec2:us-east-1:` + motoAccount + `:volume/*"]},
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateFleet"}}}`
	fleet := func(cfg aws.Config) (*ec2.CreateFleetOutput, error) {
		tags := []ec2types.Tag{{Key: aws.String("ghr:environment"), Value: aws.String("authz")}}
		return ec2.NewFromConfig(cfg).CreateFleet(ctx, &ec2.CreateFleetInput{Type: ec2types.FleetTypeInstant,
			LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
				LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Default")}}},
			TagSpecifications:           []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}, {ResourceType: ec2types.ResourceTypeVolume, Tags: tags}},
			TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeOnDemand}})
	}
	out, err := fleet(w.as("authz-no-pass", "scale-up", `{"Version":"2012-10-17","Statement":[`+base+`]}`))
	if err != nil {
		t.Fatalf("CreateFleet answers per-launch refusals in its body: %v", err)
	}
	if len(out.Instances) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorCode) != "UnauthorizedOperation" || !strings.Contains(aws.ToString(out.Errors[0].ErrorMessage), "iam:PassRole") {
		t.Fatalf("launch without iam:PassRole: instances %v errors %+v", out.Instances, out.Errors)
	}
	out, err = fleet(w.as("authz-pass", "scale-up", `{"Version":"2012-10-17","Statement":[`+base+`,
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+aws.ToString(role.Role.Arn)+`","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}`))
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("launch with the module's permissions: %+v %v", out, err)
	}
}

// A queue outside the role's policy refuses SendMessage with SQS's AccessDenied.
func TestQueueAccessIsEvaluated(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	admSQS := sqs.NewFromConfig(w.admin)
	var urls []string
	for _, n := range []string{"authz-build", "authz-other"} {
		q, err := admSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n)})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, aws.ToString(q.QueueUrl))
	}
	fn := sqs.NewFromConfig(w.as("authz-webhook", "webhook", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage",
		"Resource":"arn:aws:sqs:us-east-1:`+motoAccount+`:authz-build"}]}`))
	if _, err := fn.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls[0]), MessageBody: aws.String("{}")}); err != nil {
		t.Fatalf("own queue: %v", err)
	}
	_, err := fn.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls[1]), MessageBody: aws.String("{}")})
	wantDenied(t, "another queue", err, "AccessDenied")
}

// BenchmarkAuthorization is the latency IAM evaluation adds to a proxied call: the same
// GetParameter (SecureString, decrypted) and CreateTags with the harness's trusted credentials
// and with a function role's, whose decisions come from the evaluator's cache after the first
// call while the parameter's and instance's tags are read fresh each time.
func BenchmarkAuthorization(b *testing.B) {
	moto := motoserver.Shared(b)
	p, err := New(moto.URL, 1)
	if err != nil {
		b.Fatal(err)
	}
	p.SetSSMLimits(SSMLimits{GetTPS: 1e9, PutTPS: 1e9}) // measure evaluation, not SSM's throughput
	srv := httptest.NewServer(p)
	defer srv.Close()
	defer p.Close()
	ctx := context.Background()
	admin := motoproc.AWSConfig(moto.URL)
	if _, err := ssm.NewFromConfig(admin).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/bench/app/id"), Value: aws.String("1"),
		Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
		b.Fatal(err)
	}
	inst, err := ec2.NewFromConfig(admin).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		b.Fatal(err)
	}
	id := aws.ToString(inst.Instances[0].InstanceId)
	im := iam.NewFromConfig(admin)
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench-fn"), AssumeRolePolicyDocument: aws.String(trustLambda)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("bench-fn"), PolicyName: aws.String("f"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:` + motoAccount + `:parameter/bench/*"},
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["ghr:orphan"]}}}]}`)}); err != nil {
		b.Fatal(err)
	}
	creds, err := p.Credentials(ctx, aws.ToString(role.Role.Arn), "bench")
	if err != nil {
		b.Fatal(err)
	}
	trusted := motoproc.AWSConfig(srv.URL)
	asRole := motoproc.AWSConfig(srv.URL)
	asRole.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	for _, c := range []struct {
		name string
		cfg  aws.Config
	}{{"trusted", trusted}, {"role", asRole}} {
		b.Run("GetParameter/"+c.name, func(b *testing.B) {
			sc := ssm.NewFromConfig(c.cfg)
			for range b.N {
				if _, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/bench/app/id"), WithDecryption: aws.Bool(true)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("CreateTags/"+c.name, func(b *testing.B) {
			ec := ec2.NewFromConfig(c.cfg)
			for range b.N {
				if _, err := ec.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("ghr:orphan"), Value: aws.String("1")}}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A role's permissions boundary caps what its policies allow (the module's
// permissions_boundary variable).
func TestPermissionsBoundaryApplies(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	im := iam.NewFromConfig(w.admin)
	bound, err := im.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("authz-boundary"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:` + motoAccount + `:parameter/bounded/ok"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("authz-bounded"), AssumeRolePolicyDocument: aws.String(trustLambda), PermissionsBoundary: bound.Policy.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("authz-bounded"), PolicyName: aws.String("f"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/bounded/ok", "/bounded/no"} {
		if _, err := ssm.NewFromConfig(w.admin).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := w.p.Credentials(ctx, aws.ToString(role.Role.Arn), "bounded")
	if err != nil {
		t.Fatal(err)
	}
	cfg := motoproc.AWSConfig(w.srv.URL)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	sc := ssm.NewFromConfig(cfg)
	if _, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/bounded/ok")}); err != nil {
		t.Fatalf("inside the boundary: %v", err)
	}
	_, err = sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/bounded/no")})
	wantDenied(t, "outside the boundary", err, "AccessDeniedException")
}

// A runner instance reads only its own token: the runner policy's condition ties the
// parameter's ghr:instance-id tag to the caller's ec2:SourceInstanceARN, which an
// instance-profile session (named for its instance) carries.
func TestRunnerReadsOnlyItsOwnToken(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:DeleteParameter"],
		"Resource":"arn:aws:ssm:us-east-1:` + motoAccount + `:parameter/authz/runners/*/tokens/*",
		"Condition":{"StringEquals":{"ec2:SourceInstanceARN":"arn:aws:ec2:us-east-1:` + motoAccount + `:instance/${aws:ResourceTag/ghr:instance-id}"}}}]}`
	const own, other = "i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbbbbbbbbbb"
	for _, id := range []string{own, other} {
		if _, err := ssm.NewFromConfig(w.admin).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/authz/runners/small/tokens/" + id), Value: aws.String("jit"),
			Type: ssmtypes.ParameterTypeSecureString, Tags: []ssmtypes.Tag{{Key: aws.String("ghr:instance-id"), Value: aws.String(id)}}}); err != nil {
			t.Fatal(err)
		}
	}
	runner := ssm.NewFromConfig(w.as("authz-runner-token", own, policy))
	if _, err := runner.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/authz/runners/small/tokens/" + own), WithDecryption: aws.Bool(true)}); err != nil {
		t.Fatalf("own token: %v", err)
	}
	_, err := runner.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/authz/runners/small/tokens/" + other), WithDecryption: aws.Bool(true)})
	wantDenied(t, "another instance's token", err, "AccessDeniedException")
	_, err = runner.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/authz/runners/small/tokens/" + other)})
	wantDenied(t, "deleting another instance's token", err, "AccessDeniedException")
}
