package awsproxy

// moto 5.2.1 launches instances from a launch template without the template's instance
// profile (CreateFleet and RunInstances alike), so a fleet's instances would have no role:
// nothing on them could reach AWS, unlike on EC2. The proxy associates the template's profile
// with each instance before the caller sees the launch, as EC2 launches them with it.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// associateTemplateProfile gives ids the instance profile of launch template id at version,
// when it names one.
func associateTemplateProfile(ctx context.Context, c *ec2.Client, id, version string, ids []string) error {
	out, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(id), Versions: []string{version}})
	if err != nil {
		return fmt.Errorf("launch template %s version %s: %w", id, version, err)
	}
	if len(out.LaunchTemplateVersions) != 1 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
		return fmt.Errorf("launch template %s version %s: not found", id, version)
	}
	p := out.LaunchTemplateVersions[0].LaunchTemplateData.IamInstanceProfile
	if p == nil || (aws.ToString(p.Arn) == "" && aws.ToString(p.Name) == "") {
		return nil
	}
	spec := &ec2types.IamInstanceProfileSpecification{Arn: p.Arn, Name: p.Name}
	for _, in := range ids {
		if _, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(in), IamInstanceProfile: spec}); err != nil {
			return fmt.Errorf("associate the template's instance profile with %s: %w", in, err)
		}
	}
	return nil
}
