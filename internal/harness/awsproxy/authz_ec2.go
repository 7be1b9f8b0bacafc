package awsproxy

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// EC2 authorization as AWS documents it for the calls ghr makes: tag changes and
// terminations on the instance's ARN with its current tags (ec2:ResourceTag/*), the tags a
// call sets (aws:RequestTag/*, aws:TagKeys), and a launch as the RunInstances checks on
// every resource it creates or uses, tagging on create (ec2:CreateAction) and iam:PassRole of
// the instance profile's role.

var (
	formIndexed = regexp.MustCompile(`^(.+)\.(\d+)$`)
	tagSpecKey  = regexp.MustCompile(`^TagSpecification\.(\d+)\.(ResourceType|Tag\.(\d+)\.(Key|Value))$`)
	fleetLTKey  = regexp.MustCompile(`^LaunchTemplateConfigs\.(\d+)\.(LaunchTemplateSpecification\.(LaunchTemplateId|LaunchTemplateName|Version)|Overrides\.\d+\.(SubnetId|ImageId))$`)
)

// ec2ResourceTypes maps resource id prefixes to their ARN resource types.
var ec2ResourceTypes = map[string]string{
	"i": "instance", "vol": "volume", "sir": "spot-instances-request", "lt": "launch-template", "fleet": "fleet",
	"sg": "security-group", "subnet": "subnet", "eni": "network-interface", "snap": "snapshot", "ami": "image",
}

func ec2ARN(who caller, id string) (string, bool) {
	prefix, _, _ := strings.Cut(id, "-")
	typ, ok := ec2ResourceTypes[prefix]
	if !ok {
		return "", false
	}
	if typ == "image" || typ == "snapshot" { // public images and snapshots carry no account
		return "arn:aws:ec2:" + who.Region + "::" + typ + "/" + id, true
	}
	return "arn:aws:ec2:" + who.Region + ":" + who.account() + ":" + typ + "/" + id, true
}

func (p *Proxy) ec2Checks(ctx context.Context, action string, body []byte, who caller) ([]check, bool, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, true, fmt.Errorf("ec2 request: %w", err)
	}
	switch act := action; {
	case strings.HasPrefix(act, "ec2:Describe"): // no resource-level permissions
		return []check{{Action: act, Resource: "*"}}, true, nil
	case act == "ec2:TerminateInstances", act == "ec2:StopInstances", act == "ec2:RebootInstances":
		return p.existingResourceChecks(ctx, act, indexed(form, "InstanceId"), nil, who)
	case act == "ec2:CreateTags", act == "ec2:DeleteTags":
		tags := map[string]string{}
		keys := map[string]string{}
		for k, v := range form {
			if m := regexp.MustCompile(`^Tag\.(\d+)\.(Key|Value)$`).FindStringSubmatch(k); m != nil {
				keys[m[1]+m[2]] = v[0]
			}
		}
		for n := 1; ; n++ {
			k, ok := keys[fmt.Sprint(n)+"Key"]
			if !ok {
				break
			}
			tags[k] = keys[fmt.Sprint(n)+"Value"]
		}
		return p.existingResourceChecks(ctx, act, indexed(form, "ResourceId"), requestTagContext(tags), who)
	case act == "ec2:CreateFleet", act == "ec2:RunInstances":
		checks, err := p.launchChecks(ctx, act, form, who)
		return checks, true, err
	}
	return nil, false, nil
}

// indexed lists a query request's Name.1, Name.2, … values in order.
func indexed(form url.Values, name string) []string {
	type kv struct {
		n int
		v string
	}
	var out []kv
	for k, v := range form {
		if m := formIndexed.FindStringSubmatch(k); m != nil && m[1] == name {
			var n int
			fmt.Sscan(m[2], &n)
			out = append(out, kv{n, v[0]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	vals := make([]string, len(out))
	for i, e := range out {
		vals[i] = e.v
	}
	return vals
}

// existingResourceChecks authorizes act on each resource with its current tags.
func (p *Proxy) existingResourceChecks(ctx context.Context, act string, ids []string, extra map[string][]string, who caller) ([]check, bool, error) {
	tags, err := p.ec2Tags(ctx, who.Region, ids)
	if err != nil {
		return nil, true, err
	}
	var out []check
	for _, id := range ids {
		arn, ok := ec2ARN(who, id)
		if !ok {
			return nil, false, nil
		}
		cx := tagContext("ec2", tags[id])
		for k, v := range extra {
			cx[k] = v
		}
		out = append(out, check{Action: act, Resource: arn, Context: cx})
	}
	return out, true, nil
}

// ec2Tags reads the current tags of EC2 resources, by id.
func (p *Proxy) ec2Tags(ctx context.Context, region string, ids []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	pg := ec2.NewDescribeTagsPaginator(ec2.NewFromConfig(p.admin(region)), &ec2.DescribeTagsInput{
		Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: ids}}})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("tags of %v: %w", ids, err)
		}
		for _, t := range page.Tags {
			id := aws.ToString(t.ResourceId)
			if out[id] == nil {
				out[id] = map[string]string{}
			}
			out[id][aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return out, nil
}

// launchSpec is what a launch uses, from its request and its launch template.
type launchSpec struct {
	template     string // launch template ARN, "" without one
	images       []string
	subnets      []string
	groups       []string
	keyName      string
	spot         bool
	profile      string                       // instance profile ARN or name
	tags         map[string]map[string]string // resource type → tags requested (template's, then the call's)
	volumeKeyIDs []string
}

// launchChecks are the checks of a CreateFleet or RunInstances (docs: "Grant required
// permissions for Amazon EC2 resources", "Permissions to tag resources during creation").
func (p *Proxy) launchChecks(ctx context.Context, act string, form url.Values, who caller) ([]check, error) {
	specs, err := p.launchSpecs(ctx, act, form, who)
	if err != nil {
		return nil, err
	}
	var out []check
	if act == "ec2:CreateFleet" {
		out = append(out, check{Action: "ec2:CreateFleet", Resource: "arn:aws:ec2:" + who.Region + ":" + who.account() + ":fleet/*"})
	}
	launch := act == "ec2:CreateFleet"
	for _, s := range specs {
		arn := func(typ string) string { return "arn:aws:ec2:" + who.Region + ":" + who.account() + ":" + typ + "/*" }
		created := map[string]string{"instance": arn("instance"), "volume": arn("volume"), "network-interface": arn("network-interface")}
		if s.spot {
			created["spot-instances-request"] = arn("spot-instances-request")
		}
		for _, typ := range sortedKeys(created) {
			cx := requestTagContext(s.tags[typ])
			if s.template != "" && (typ == "instance" || typ == "volume") {
				cx["ec2:LaunchTemplate"] = []string{s.template}
			}
			out = append(out, check{Action: "ec2:RunInstances", Resource: created[typ], Context: cx, launch: launch})
		}
		used := []string{}
		if s.template != "" {
			used = append(used, s.template)
		}
		for _, id := range append(append(append([]string{}, s.images...), s.subnets...), s.groups...) {
			if a, ok := ec2ARN(who, id); ok {
				used = append(used, a)
			}
		}
		if s.keyName != "" {
			used = append(used, "arn:aws:ec2:"+who.Region+":"+who.account()+":key-pair/"+s.keyName)
		}
		for _, a := range used {
			out = append(out, check{Action: "ec2:RunInstances", Resource: a, launch: launch})
		}
		for _, typ := range sortedKeys(created) {
			if len(s.tags[typ]) == 0 {
				continue
			}
			cx := requestTagContext(s.tags[typ])
			cx["ec2:CreateAction"] = []string{strings.TrimPrefix(act, "ec2:")}
			out = append(out, check{Action: "ec2:CreateTags", Resource: created[typ], Context: cx, launch: launch})
		}
		if s.profile != "" {
			role, err := p.profileRole(ctx, s.profile)
			if err != nil {
				return nil, err
			}
			if role != "" {
				out = append(out, check{Action: "iam:PassRole", Resource: role, Context: map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}, launch: launch})
			}
		}
	}
	return out, nil
}

// launchSpecs reads what each launch template configuration of the request uses.
func (p *Proxy) launchSpecs(ctx context.Context, act string, form url.Values, who caller) ([]launchSpec, error) {
	callTags := map[string]map[string]string{}
	specs := map[string]map[string]string{} // TagSpecification index → "type" and keys/values
	for k, v := range form {
		if m := tagSpecKey.FindStringSubmatch(k); m != nil {
			if specs[m[1]] == nil {
				specs[m[1]] = map[string]string{}
			}
			if m[2] == "ResourceType" {
				specs[m[1]]["\x00type"] = v[0]
			} else {
				specs[m[1]][m[3]+m[4]] = v[0]
			}
		}
	}
	for _, s := range specs {
		typ := s["\x00type"]
		if callTags[typ] == nil {
			callTags[typ] = map[string]string{}
		}
		for n := 1; ; n++ {
			k, ok := s[fmt.Sprint(n)+"Key"]
			if !ok {
				break
			}
			callTags[typ][k] = s[fmt.Sprint(n)+"Value"]
		}
	}
	type ref struct{ id, name, version string }
	refs := map[string]*ref{}
	var images, subnets []string
	if act == "ec2:RunInstances" {
		if form.Get("LaunchTemplate.LaunchTemplateId") != "" || form.Get("LaunchTemplate.LaunchTemplateName") != "" {
			refs["0"] = &ref{form.Get("LaunchTemplate.LaunchTemplateId"), form.Get("LaunchTemplate.LaunchTemplateName"), form.Get("LaunchTemplate.Version")}
		}
		if v := form.Get("ImageId"); v != "" {
			images = append(images, v)
		}
		if v := form.Get("SubnetId"); v != "" {
			subnets = append(subnets, v)
		}
	}
	for k, v := range form {
		m := fleetLTKey.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		if refs[m[1]] == nil {
			refs[m[1]] = &ref{}
		}
		switch {
		case m[3] == "LaunchTemplateId":
			refs[m[1]].id = v[0]
		case m[3] == "LaunchTemplateName":
			refs[m[1]].name = v[0]
		case m[3] == "Version":
			refs[m[1]].version = v[0]
		case m[4] == "SubnetId":
			subnets = append(subnets, v[0])
		case m[4] == "ImageId":
			images = append(images, v[0])
		}
	}
	base := launchSpec{images: images, subnets: subnets, groups: indexed(form, "SecurityGroupId"), keyName: form.Get("KeyName"),
		spot:    form.Get("InstanceMarketOptions.MarketType") == "spot" || strings.Contains(form.Get("TargetCapacitySpecification.DefaultTargetCapacityType"), "spot"),
		profile: firstNonEmpty(form.Get("IamInstanceProfile.Arn"), form.Get("IamInstanceProfile.Name"))}
	if len(refs) == 0 {
		base.tags = callTags
		return []launchSpec{base}, nil
	}
	var out []launchSpec
	for _, r := range refs {
		s := base
		s.tags = map[string]map[string]string{}
		in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{firstNonEmpty(r.version, "$Default")}}
		if r.id != "" {
			in.LaunchTemplateId = aws.String(r.id)
		} else {
			in.LaunchTemplateName = aws.String(r.name)
		}
		got, err := ec2.NewFromConfig(p.admin(who.Region)).DescribeLaunchTemplateVersions(ctx, in)
		if err != nil || len(got.LaunchTemplateVersions) == 0 {
			continue // the emulator answers the launch's own error for a bad template
		}
		v := got.LaunchTemplateVersions[0]
		s.template = "arn:aws:ec2:" + who.Region + ":" + who.account() + ":launch-template/" + aws.ToString(v.LaunchTemplateId)
		if d := v.LaunchTemplateData; d != nil {
			if len(s.images) == 0 && d.ImageId != nil {
				s.images = []string{aws.ToString(d.ImageId)}
			}
			s.groups = append(s.groups, d.SecurityGroupIds...)
			for _, ni := range d.NetworkInterfaces {
				s.groups = append(s.groups, ni.Groups...)
				if len(s.subnets) == 0 && ni.SubnetId != nil {
					s.subnets = append(s.subnets, aws.ToString(ni.SubnetId))
				}
			}
			if s.keyName == "" {
				s.keyName = aws.ToString(d.KeyName)
			}
			if d.InstanceMarketOptions != nil && d.InstanceMarketOptions.MarketType == ec2types.MarketTypeSpot {
				s.spot = true
			}
			if s.profile == "" && d.IamInstanceProfile != nil {
				s.profile = firstNonEmpty(aws.ToString(d.IamInstanceProfile.Arn), aws.ToString(d.IamInstanceProfile.Name))
			}
			for _, ts := range d.TagSpecifications {
				typ := string(ts.ResourceType)
				if s.tags[typ] == nil {
					s.tags[typ] = map[string]string{}
				}
				for _, t := range ts.Tags {
					s.tags[typ][aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		}
		for typ, tags := range callTags { // the call's tags win over the template's
			if s.tags[typ] == nil {
				s.tags[typ] = map[string]string{}
			}
			for k, v := range tags {
				s.tags[typ][k] = v
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// profileRole is the role ARN of an instance profile (name or ARN); "" when it has none.
func (p *Proxy) profileRole(ctx context.Context, profile string) (string, error) {
	name := profile[strings.LastIndexByte(profile, '/')+1:]
	v, err := p.memo("profile "+name, func() (any, error) {
		out, err := iam.NewFromConfig(p.admin("")).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("instance profile %s: %w", name, err)
		}
		if len(out.InstanceProfile.Roles) == 0 {
			return "", nil
		}
		return aws.ToString(out.InstanceProfile.Roles[0].Arn), nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
