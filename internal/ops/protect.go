package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/tags"
)

// launchTemplateTag is the tag EC2 itself puts on instances launched from a template; no
// principal can set an aws: tag, so it proves which template launched an instance.
const launchTemplateTag = "aws:ec2launchtemplate:id"

// ErrNotOurs is returned for an instance the deployment cannot prove it launched.
var ErrNotOurs = errors.New("not an instance of this deployment")

// Protect sets (on) or removes the ghr:protect tag of an instance: no scale-down, clean-up or
// orphan pass removes a protected instance, so an operator can keep a runner to debug it.
func (d *Deployment) Protect(ctx context.Context, instanceID string, on bool) error {
	in, err := d.ours(ctx, instanceID)
	if err != nil {
		return err
	}
	if on {
		return ec2fleet.Tag(ctx, d.EC2, []string{in.ID}, map[string]string{tags.Protect: "true"})
	}
	_, err = d.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{in.ID}, Tags: []ec2types.Tag{{Key: aws.String(tags.Protect)}}})
	if err != nil {
		return fmt.Errorf("untag %s: %w", in.ID, err)
	}
	return nil
}

// ours finds a live instance and checks it is this deployment's: tagged with its environment
// and a runner config, and — where EC2 reports it — launched from that config's launch
// template (named <prefix>-<config> by the module).
func (d *Deployment) ours(ctx context.Context, id string) (ec2fleet.Instance, error) {
	out, err := d.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return ec2fleet.Instance{}, fmt.Errorf("describe %s: %w", id, err)
	}
	var in *ec2types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			in = &r.Instances[i]
		}
	}
	if in == nil {
		return ec2fleet.Instance{}, fmt.Errorf("%s: %w", id, ErrNotOurs)
	}
	kv := map[string]string{}
	for _, t := range in.Tags {
		kv[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	cfg := kv[tags.RunnerConfig]
	if kv[tags.Environment] != d.Prefix || cfg == "" {
		return ec2fleet.Instance{}, fmt.Errorf("%s (tagged %s=%q): %w", id, tags.Environment, kv[tags.Environment], ErrNotOurs)
	}
	if lt, ok := kv[launchTemplateTag]; ok {
		want, err := d.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{d.Prefix + "-" + cfg}})
		if err != nil {
			return ec2fleet.Instance{}, fmt.Errorf("launch template of %s: %w", cfg, err)
		}
		if len(want.LaunchTemplates) != 1 || aws.ToString(want.LaunchTemplates[0].LaunchTemplateId) != lt {
			return ec2fleet.Instance{}, fmt.Errorf("%s was launched from %s, not %s-%s: %w", id, lt, d.Prefix, cfg, ErrNotOurs)
		}
	}
	state := ""
	if in.State != nil {
		state = string(in.State.Name)
	}
	return ec2fleet.Instance{ID: id, State: state, Tags: kv, LaunchTime: aws.ToTime(in.LaunchTime)}, nil
}
