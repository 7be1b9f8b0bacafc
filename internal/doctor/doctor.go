// Package doctor checks a deployed ghr with read-only calls for the faults that stop real
// deployments: an App not installed or lacking a permission the runner configs need, webhook
// deliveries failing, runner subnets without an internet route or free addresses, instance
// types not offered in their zones, reserved Lambda concurrency the account's quota cannot
// hold, no runner archive from the syncer, a missing spot service-linked role.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/ssmparam"
)

// Limits the checks hold the deployment to.
const (
	// minUnreserved: Lambda refuses a reservation that leaves fewer unreserved executions.
	minUnreserved = 100
	// recentDeliveries: how many of the App's latest deliveries must have succeeded.
	recentDeliveries = 30
	spotRole         = "AWSServiceRoleForEC2Spot"
)

// Result is one check's outcome.
type Result struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Deployment is what the checks read.
type Deployment struct {
	Prefix  string
	AWS     aws.Config
	Configs []config.RunnerConfig
	App     *githubapp.App
	Env     map[string]map[string]string // function short name → environment
}

// Load discovers prefix's functions and, through scale-up's environment, the runner configs
// and the App's credentials.
func Load(ctx context.Context, cfg aws.Config, prefix string) (*Deployment, error) {
	d := &Deployment{Prefix: prefix, AWS: cfg, Env: map[string]map[string]string{}}
	lc := lambda.NewFromConfig(cfg)
	p := lambda.NewListFunctionsPaginator(lc, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		for _, f := range page.Functions {
			if short, ok := strings.CutPrefix(aws.ToString(f.FunctionName), prefix+"-"); ok && f.Environment != nil {
				d.Env[short] = f.Environment.Variables
			}
		}
	}
	env, ok := d.Env["scale-up"]
	if !ok {
		return nil, fmt.Errorf("no function %s-scale-up in %s: is -prefix the module's prefix and -region its region?", prefix, cfg.Region)
	}
	e := config.MapEnv(env)
	src, gh := e.Secret("RUNNER_CONFIGS"), config.ReadGitHubApp(e)
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("%s-scale-up environment: %w", prefix, err)
	}
	r := ssmparam.Reader{API: ssm.NewFromConfig(cfg)}
	var err error
	if d.Configs, err = config.LoadRunnerConfigs(ctx, src, r); err != nil {
		return nil, err
	}
	if d.App, err = githubapp.Load(ctx, gh, r, githubapp.Config{}); err != nil {
		return nil, fmt.Errorf("github app: %w", err)
	}
	return d, nil
}

// Run runs every check.
func Run(ctx context.Context, d *Deployment) []Result {
	ec := ec2.NewFromConfig(d.AWS)
	return []Result{
		d.appPermissions(ctx),
		d.installations(ctx),
		d.deliveries(ctx),
		d.subnets(ctx, ec),
		d.offerings(ctx, ec),
		d.concurrency(ctx),
		d.archive(ctx),
		d.serviceLinkedRole(ctx),
	}
}

// NeededPermissions are the App permissions the runner configs need (docs/getting-started.md):
// org runners need organization self-hosted runners; repo runners, and org configs that fall
// back to repo runners for user-owned repositories, need administration; all read actions, and
// a spot config (the default capacity type) writes them: an interrupted job is re-run
// (internal/interruption).
func NeededPermissions(cfgs []config.RunnerConfig, userOwners bool) map[string]string {
	p := map[string]string{"actions": "read", "metadata": "read"}
	for _, c := range cfgs {
		if c.CapacityType != config.CapacityOnDemand {
			p["actions"] = "write"
		}
		if c.Level == "org" {
			p["organization_self_hosted_runners"] = "write"
		}
		if c.Level == "repo" || userOwners {
			p["administration"] = "write"
		}
	}
	return p
}

var rank = map[string]int{"read": 1, "write": 2, "admin": 3}

func (d *Deployment) appPermissions(ctx context.Context) Result {
	r := Result{Check: "app permissions"}
	app, _, err := d.App.AppClient().Apps.Get(ctx, "")
	if err != nil {
		r.Detail = "GET /app: " + err.Error()
		return r
	}
	users := false
	if ins, err := d.listInstallations(ctx); err == nil {
		for _, in := range ins {
			users = users || in.GetAccount().GetType() == "User"
		}
	}
	have := map[string]string{}
	if app.Permissions != nil {
		for k, v := range permissionMap(app.Permissions) {
			have[k] = v
		}
	}
	var missing []string
	for perm, lvl := range NeededPermissions(d.Configs, users) {
		if rank[have[perm]] < rank[lvl] {
			missing = append(missing, fmt.Sprintf("%s: %s (has %q)", perm, lvl, have[perm]))
		}
	}
	if !slices.Contains(app.Events, "workflow_job") {
		missing = append(missing, "event workflow_job not subscribed")
	}
	sort.Strings(missing)
	r.OK = len(missing) == 0
	r.Detail = "App " + app.GetSlug() + " has what the runner configs need"
	if !r.OK {
		r.Detail = "App " + app.GetSlug() + " lacks " + strings.Join(missing, "; ") + ": add them in the App's settings and accept them in each installation"
	}
	return r
}

func (d *Deployment) listInstallations(ctx context.Context) ([]*github.Installation, error) {
	var all []*github.Installation
	opt := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := d.App.AppClient().Apps.ListInstallations(ctx, opt)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}

func (d *Deployment) installations(ctx context.Context) Result {
	r := Result{Check: "app installed"}
	ins, err := d.listInstallations(ctx)
	if err != nil {
		r.Detail = "GET /app/installations: " + err.Error()
		return r
	}
	var owners []string
	for _, in := range ins {
		owners = append(owners, in.GetAccount().GetLogin())
	}
	for _, c := range d.Configs {
		if c.PoolSize > 0 && !slices.ContainsFunc(owners, func(o string) bool { return strings.EqualFold(o, c.PoolOwner) }) {
			r.Detail = fmt.Sprintf("config %s keeps a warm pool in %s, where the App is not installed", c.Key, c.PoolOwner)
			return r
		}
	}
	r.OK = len(owners) > 0
	r.Detail = "installed on " + strings.Join(owners, ", ")
	if !r.OK {
		r.Detail = "the App is installed nowhere: install it on the organization (before terraform apply: the syncer needs it)"
	}
	return r
}

func (d *Deployment) deliveries(ctx context.Context) Result {
	r := Result{Check: "webhook deliveries"}
	ds, _, err := d.App.AppClient().Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: recentDeliveries})
	if err != nil {
		r.Detail = "GET /app/hook/deliveries: " + err.Error()
		return r
	}
	if len(ds) == 0 {
		r.Detail = "no deliveries yet: set the App's webhook URL (terraform output webhook_url) and secret, activate it, and subscribe to Workflow job"
		return r
	}
	var bad []string
	for _, dl := range ds {
		if c := dl.GetStatusCode(); c < 200 || c > 299 {
			bad = append(bad, fmt.Sprintf("%d (%s)", c, dl.GetStatus()))
		}
	}
	r.OK = len(bad) == 0
	r.Detail = fmt.Sprintf("the last %d deliveries succeeded", len(ds))
	if !r.OK {
		r.Detail = fmt.Sprintf("%d of the last %d deliveries failed: %s (401: the secret differs from the module's)", len(bad), len(ds), strings.Join(bad[:min(3, len(bad))], ", "))
	}
	return r
}

func (d *Deployment) subnetIDs() []string {
	var ids []string
	for _, c := range d.Configs {
		for _, s := range c.SubnetIDs {
			if !slices.Contains(ids, s) {
				ids = append(ids, s)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

func (d *Deployment) subnets(ctx context.Context, ec *ec2.Client) Result {
	r := Result{Check: "runner subnets"}
	ids := d.subnetIDs()
	if len(ids) == 0 {
		r.Detail = "no runner config names a subnet"
		return r
	}
	out, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: ids})
	if err != nil {
		r.Detail = "DescribeSubnets: " + err.Error()
		return r
	}
	var problems []string
	for _, s := range out.Subnets {
		id := aws.ToString(s.SubnetId)
		if aws.ToInt32(s.AvailableIpAddressCount) == 0 {
			problems = append(problems, id+" has no free addresses")
		}
		ok, err := routesToInternet(ctx, ec, s)
		if err != nil {
			problems = append(problems, id+": "+err.Error())
		} else if !ok {
			problems = append(problems, id+" has no route to the internet (0.0.0.0/0 through a NAT or internet gateway): runners cannot reach GitHub")
		}
	}
	r.OK = len(problems) == 0
	r.Detail = fmt.Sprintf("%d subnets reach the internet and have free addresses", len(out.Subnets))
	if !r.OK {
		r.Detail = strings.Join(problems, "; ")
	}
	return r
}

// routesToInternet reads the subnet's route table (its own, else the VPC's main one).
func routesToInternet(ctx context.Context, ec *ec2.Client, s ec2types.Subnet) (bool, error) {
	tables, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{aws.ToString(s.SubnetId)}}}})
	if err != nil {
		return false, err
	}
	if len(tables.RouteTables) == 0 {
		if tables, err = ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{aws.ToString(s.VpcId)}}, {Name: aws.String("association.main"), Values: []string{"true"}}}}); err != nil {
			return false, err
		}
	}
	for _, t := range tables.RouteTables {
		for _, rt := range t.Routes {
			if aws.ToString(rt.DestinationCidrBlock) != "0.0.0.0/0" || rt.State == ec2types.RouteStateBlackhole {
				continue
			}
			if strings.HasPrefix(aws.ToString(rt.GatewayId), "igw-") || rt.NatGatewayId != nil || rt.TransitGatewayId != nil || rt.NetworkInterfaceId != nil {
				return true, nil
			}
		}
	}
	return false, nil
}

func (d *Deployment) offerings(ctx context.Context, ec *ec2.Client) Result {
	r := Result{Check: "instance types offered"}
	var problems []string
	for _, c := range d.Configs {
		subnets, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: c.SubnetIDs})
		if err != nil {
			r.Detail = "DescribeSubnets: " + err.Error()
			return r
		}
		for _, s := range subnets.Subnets {
			zone := aws.ToString(s.AvailabilityZone)
			out, err := ec.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: ec2types.LocationTypeAvailabilityZone,
				Filters: []ec2types.Filter{{Name: aws.String("location"), Values: []string{zone}}, {Name: aws.String("instance-type"), Values: c.InstanceTypes}}})
			if err != nil {
				r.Detail = "DescribeInstanceTypeOfferings: " + err.Error()
				return r
			}
			if len(out.InstanceTypeOfferings) == 0 {
				problems = append(problems, fmt.Sprintf("config %s: none of %s is offered in %s (subnet %s)", c.Key, strings.Join(c.InstanceTypes, ", "), zone, aws.ToString(s.SubnetId)))
			}
		}
	}
	r.OK = len(problems) == 0
	r.Detail = "every config has an offered instance type in each of its subnets' zones"
	if !r.OK {
		r.Detail = strings.Join(problems, "; ")
	}
	return r
}

func (d *Deployment) concurrency(ctx context.Context) Result {
	r := Result{Check: "lambda concurrency"}
	lc := lambda.NewFromConfig(d.AWS)
	acct, err := lc.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || acct.AccountLimit == nil {
		r.Detail = fmt.Sprintf("GetAccountSettings: %v", err)
		return r
	}
	limit, reserved := acct.AccountLimit.ConcurrentExecutions, int32(0)
	for short := range d.Env {
		c, err := lc.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(d.Prefix + "-" + short)})
		if err != nil {
			r.Detail = "GetFunctionConcurrency: " + err.Error()
			return r
		}
		reserved += aws.ToInt32(c.ReservedConcurrentExecutions)
	}
	r.OK = limit-reserved >= minUnreserved
	r.Detail = fmt.Sprintf("quota %d, %d reserved by ghr, %d unreserved", limit, reserved, limit-reserved)
	if !r.OK {
		r.Detail += fmt.Sprintf(": Lambda keeps at least %d unreserved; raise the account's concurrent-executions quota or unreserve (function_settings reserved_concurrency = -1)", minUnreserved)
	}
	return r
}

func (d *Deployment) archive(ctx context.Context) Result {
	r := Result{Check: "runner archive"}
	bucket := d.Env["syncer"]["DIST_BUCKET"]
	if bucket == "" {
		r.Detail = "no syncer function with DIST_BUCKET"
		return r
	}
	out, err := s3.NewFromConfig(d.AWS, func(o *s3.Options) { o.UsePathStyle = true }).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("actions-runner-")})
	if err != nil {
		r.Detail = "ListObjectsV2: " + err.Error()
		return r
	}
	r.OK = len(out.Contents) > 0
	r.Detail = fmt.Sprintf("%d runner archives in %s", len(out.Contents), bucket)
	if !r.OK {
		r.Detail = "no actions-runner archive in " + bucket + ": the syncer has not run or failed; see /aws/lambda/" + d.Prefix + "-syncer (is the App installed?)"
	}
	return r
}

func (d *Deployment) serviceLinkedRole(ctx context.Context) Result {
	r := Result{Check: "spot service-linked role"}
	spot := slices.ContainsFunc(d.Configs, func(c config.RunnerConfig) bool { return c.CapacityType != "on-demand" })
	if !spot {
		return Result{Check: r.Check, OK: true, Detail: "no config uses spot"}
	}
	_, err := iam.NewFromConfig(d.AWS).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spotRole)})
	if err != nil {
		var nf interface{ ErrorCode() string }
		if errors.As(err, &nf) && nf.ErrorCode() == "NoSuchEntity" {
			r.Detail = spotRole + " is missing: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"
			return r
		}
		r.Detail = "GetRole: " + err.Error()
		return r
	}
	return Result{Check: r.Check, OK: true, Detail: spotRole + " exists"}
}

// permissionMap flattens go-github's InstallationPermissions into name → level.
func permissionMap(p *github.InstallationPermissions) map[string]string {
	m := map[string]string{}
	add := func(name string, v *string) {
		if v != nil {
			m[name] = *v
		}
	}
	add("actions", p.Actions)
	add("administration", p.Administration)
	add("metadata", p.Metadata)
	add("organization_self_hosted_runners", p.OrganizationSelfHostedRunners)
	return m
}
