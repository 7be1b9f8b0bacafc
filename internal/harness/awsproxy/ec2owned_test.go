package awsproxy

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

func TestReservedTagRefusal(t *testing.T) {
	for _, tc := range []struct {
		name, action string
		form         url.Values
		refused      string // the key named in the error, "" for allowed
	}{
		{"create aws key", "ec2:CreateTags", url.Values{"Tag.1.Key": {"ghr:environment"}, "Tag.2.Key": {"aws:ec2launchtemplate:id"}}, "aws:ec2launchtemplate:id"},
		{"any case", "ec2:CreateTags", url.Values{"Tag.1.Key": {"AWS:ec2:fleet-id"}}, "AWS:ec2:fleet-id"},
		{"delete aws key", "ec2:DeleteTags", url.Values{"Tag.1.Key": {"aws:ec2launchtemplate:id"}}, "aws:ec2launchtemplate:id"},
		{"at launch", "ec2:RunInstances", url.Values{"TagSpecification.1.Tag.3.Key": {"aws:ec2launchtemplate:id"}}, "aws:ec2launchtemplate:id"},
		{"a value may start with aws:", "ec2:CreateTags", url.Values{"Tag.1.Key": {"ghr:owner"}, "Tag.1.Value": {"aws:x"}}, ""},
		{"own keys", "ec2:CreateTags", url.Values{"Tag.1.Key": {"ghr:orphan"}, "Tag.2.Key": {"awsome"}}, ""},
		{"not EC2", "ssm:AddTagsToResource", url.Values{"Tag.1.Key": {"aws:x"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := reservedTagRefusal(tc.action, tc.form)
			if tc.refused == "" {
				if f != nil {
					t.Fatalf("refused %+v", f)
				}
				return
			}
			if f == nil || f.Code != "InvalidParameterValue" || f.Status != 400 ||
				f.Message != "Value ( "+tc.refused+" ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use" {
				t.Fatalf("got %+v, want EC2's InvalidParameterValue naming %s", f, tc.refused)
			}
		})
	}
}

// An instance a fleet launched carries EC2's template and fleet tags, and no caller can set,
// copy or remove them: the ownership proof ghr's listings rely on.
func TestFleetLaunchesCarryEC2TemplateTags(t *testing.T) {
	ctx := context.Background()
	moto := motoserver.Start(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	c := ec2.NewFromConfig(motoproc.AWSConfig(srv.URL))
	lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("owned-runner"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro}})
	if err != nil {
		t.Fatal(err)
	}
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	out, err := c.CreateFleet(ctx, &ec2.CreateFleetInput{Type: ec2types.FleetTypeInstant,
		LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
			LaunchTemplateName: aws.String("owned-runner"), Version: aws.String("$Default")}}},
		TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(2), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeOnDemand}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range out.Instances {
		ids = append(ids, in.InstanceIds...)
	}
	if len(ids) != 2 {
		t.Fatalf("launched %v, want 2 instances", ids)
	}
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Reservations {
		for _, i := range r.Instances {
			kv := map[string]string{}
			for _, tg := range i.Tags {
				kv[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if kv[TagLaunchTemplateID] != ltID || kv[TagLaunchTemplateVersion] != "1" || kv[TagFleetID] != aws.ToString(out.FleetId) {
				t.Fatalf("instance %s tags %v, want template %s version 1 fleet %s", aws.ToString(i.InstanceId), kv, ltID, aws.ToString(out.FleetId))
			}
		}
	}

	// A forger with ec2:CreateTags copies the tag onto an instance launched otherwise.
	other, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	otherID := aws.ToString(other.Instances[0].InstanceId)
	refused := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "reserved for internal use") {
			t.Fatalf("%s: err = %v, want EC2's InvalidParameterValue", what, err)
		}
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{otherID}, Tags: []ec2types.Tag{{Key: aws.String(TagLaunchTemplateID), Value: aws.String(ltID)}}})
	refused("CreateTags", err)
	_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids[:1], Tags: []ec2types.Tag{{Key: aws.String(TagLaunchTemplateID)}}})
	refused("DeleteTags", err)
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String(TagLaunchTemplateID), Value: aws.String(ltID)}}}}})
	refused("RunInstances with the tag", err)
	d, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + TagLaunchTemplateID), Values: []string{ltID}}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range d.Reservations {
		n += len(r.Instances)
	}
	if n != 2 {
		t.Fatalf("%d instances carry the template id, want the fleet's 2", n)
	}
}
