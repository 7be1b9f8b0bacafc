package awsproxy

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

const (
	motoAMI     = "ami-12c6146b"
	trustLambda = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// The module's scale-up policy before issue 12: the key only through SSM.
	keyViaSSMOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}}]}`
	keyViaEC2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
		{"Effect":"Allow","Action":["kms:Decrypt","kms:DescribeKey","kms:GenerateDataKeyWithoutPlaintext","kms:ReEncrypt*"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"}}},
		{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}`
)

// A launch whose volumes use a customer-managed key the launching role may use only via SSM
// returns its instance, which then terminates with Client.InternalError, as on AWS; with the
// EC2 permissions the same launch runs.
func TestEBSKeyUseIsEnforced(t *testing.T) {
	ctx := context.Background()
	moto := motoserver.Start(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	admin := motoproc.AWSConfig(moto.URL)
	im := iam.NewFromConfig(admin)
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("scale-up"), AssumeRolePolicyDocument: aws.String(trustLambda)})
	if err != nil {
		t.Fatal(err)
	}
	setPolicy := func(doc string) {
		if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("scale-up"), PolicyName: aws.String("launch"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		p.ForgetPolicies()
	}
	setPolicy(keyViaSSMOnly)
	key, err := kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{}) // default policy: the account root, delegating to IAM
	if err != nil {
		t.Fatal(err)
	}
	admEC2 := ec2.NewFromConfig(admin)
	lt, err := admEC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("runner"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
		ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: aws.Bool(true), KmsKeyId: key.KeyMetadata.Arn, VolumeSize: aws.Int32(30)}}}}})
	if err != nil {
		t.Fatal(err)
	}

	creds, err := p.Credentials(ctx, aws.ToString(role.Role.Arn), "scale-up")
	if err != nil {
		t.Fatal(err)
	}
	cfg := motoproc.AWSConfig(srv.URL)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	asRole := ec2.NewFromConfig(cfg)
	launch := func() (string, *ec2types.Instance) {
		t.Helper()
		out, err := asRole.CreateFleet(ctx, &ec2.CreateFleetInput{Type: ec2types.FleetTypeInstant,
			LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
				LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")}}},
			TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeOnDemand}})
		if err != nil {
			t.Fatalf("CreateFleet must succeed as on AWS: %v", err)
		}
		if len(out.Instances) != 1 || len(out.Instances[0].InstanceIds) != 1 {
			t.Fatalf("fleet = %+v, want one instance id", out)
		}
		id := out.Instances[0].InstanceIds[0]
		d, err := asRole.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil || len(d.Reservations) != 1 {
			t.Fatalf("describe %s: %v", id, err)
		}
		return id, &d.Reservations[0].Instances[0]
	}

	id, inst := launch()
	if inst.State.Name != ec2types.InstanceStateNameTerminated || inst.StateReason == nil || aws.ToString(inst.StateReason.Code) != launchFailureCode ||
		aws.ToString(inst.StateReason.Message) != launchFailureMessage {
		t.Fatalf("instance %s without EC2 use of its volume key: state %s reason %+v; want terminated, Client.InternalError", id, inst.State.Name, inst.StateReason)
	}
	setPolicy(keyViaEC2)
	id2, inst2 := launch()
	if inst2.State.Name == ec2types.InstanceStateNameTerminated {
		t.Fatalf("instance %s with the EC2 key permissions was terminated: %+v", id2, inst2.StateReason)
	}
	// The harness's own credentials are trusted like an administrator's; the first instance
	// still shows AWS's reason to them.
	d, err := ec2.NewFromConfig(motoproc.AWSConfig(srv.URL)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id, id2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Reservations {
		for _, i := range r.Instances {
			if (aws.ToString(i.InstanceId) == id) != (i.StateReason != nil && aws.ToString(i.StateReason.Code) == launchFailureCode) {
				t.Fatalf("instance %s (doomed %s) state %s reason %s", aws.ToString(i.InstanceId), id, i.State.Name, aws.ToString(i.StateReason.Code))
			}
		}
	}
	// The AWS-managed aws/ebs key needs no grant: EC2 may always use it for the account's
	// volumes. moto creates it as a customer key, so the proxy knows it by its alias.
	setPolicy(keyViaSSMOnly)
	ebsKey, err := kms.NewFromConfig(admin).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admEC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId,
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
			BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
				Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: aws.Bool(true), KmsKeyId: ebsKey.KeyMetadata.Arn, VolumeSize: aws.Int32(30)}}}}}); err != nil {
		t.Fatal(err)
	}
	if id3, inst3 := launch(); inst3.State.Name == ec2types.InstanceStateNameTerminated {
		t.Fatalf("instance %s with the AWS-managed aws/ebs key was terminated: %+v", id3, inst3.StateReason)
	}
}
