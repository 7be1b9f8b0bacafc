package doctor

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/sandbox"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// faultTries bounds re-injections of a fault a running function repaired before the check.
const faultTries = 3

func find(t *testing.T, rs []Result, check string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no check %q", check)
	return Result{}
}

// TestDoctorOnTheSandbox: every check passes on a healthy sandbox, and each injected fault
// fails exactly its check with a detail that names it. One sandbox serves every case. The
// doctor talks to the sandbox's AWS proxy, which answers what moto lacks as AWS does (Lambda
// account settings, service-linked role names); the emulator's default VPC has the internet
// gateway and route of a real one (motoproc.LikeANewAccount).
func TestDoctorOnTheSandbox(t *testing.T) {
	slow.Skip(t, slow.EndToEnd)
	ctx := context.Background()
	_, file, _, _ := runtime.Caller(0)
	root, dist := filepath.Join(filepath.Dir(file), "..", ".."), t.TempDir()
	if err := distbuild.BuildAll(ctx, root, dist, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Up(ctx, sandbox.Options{Root: root, DistDir: dist, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := motoproc.AWSConfig(sb.ProxyURL)
	ic := iam.NewFromConfig(cfg)
	// What a real account has before ghr runs spot: the service-linked role (getting-started step 4).
	createSpotRole := func() {
		if _, err := ic.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("spot.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	}
	createSpotRole()
	// A job, so the App has deliveries; by its end the syncer has stored the runner archive.
	runJob := func() {
		j, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: sb.Repos[0], Labels: sandbox.SmallLabels, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(time.Second) {
			if got, _ := sb.Sim.Job(j.ID); got.Status == ghsim.StatusCompleted {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %d never completed", j.ID)
			}
		}
	}
	runJob()
	d, err := Load(ctx, cfg, sb.Opts.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Run(ctx, d) {
		if !r.OK {
			t.Errorf("healthy sandbox: %s failed: %s", r.Check, r.Detail)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	ec := ec2.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	faults := []struct {
		check, want string
		inject      func()
		undo        func()
	}{
		{"app permissions", "organization_self_hosted_runners",
			func() {
				sb.Sim.SetApp(ghsim.Manifest{Name: "ghr", DefaultPermissions: map[string]string{"actions": "read"}, DefaultEvents: []string{"workflow_job"}})
			},
			func() {
				sb.Sim.SetApp(ghsim.Manifest{Name: "ghr", DefaultPermissions: ghsim.DefaultAppPermissions, DefaultEvents: []string{"workflow_job"}})
			}},
		{"instance types offered", "x9.nope",
			func() { d.Configs[0].InstanceTypes = []string{"x9.nope"} },
			func() {
				if d, err = Load(ctx, cfg, sb.Opts.Prefix); err != nil {
					t.Fatal(err)
				}
			}},
		// A new account: its quota of 10 cannot keep 100 executions unreserved.
		{"lambda concurrency", "quota 10",
			func() { sb.Proxy.SetLambdaConcurrency(10) },
			func() { sb.Proxy.SetLambdaConcurrency(0) }},
		{"runner archive", "no actions-runner archive",
			func() { moveArchives(ctx, t, s3c, d.Env["syncer"]["DIST_BUCKET"], "actions-runner-", "held/") },
			func() { moveArchives(ctx, t, s3c, d.Env["syncer"]["DIST_BUCKET"], "held/", "actions-runner-") }},
		{"app installed", "installed nowhere",
			func() {
				for _, o := range sb.Owners {
					if err := sb.Sim.Uninstall(o); err != nil {
						t.Fatal(err)
					}
				}
			},
			func() {
				for _, o := range sb.Owners {
					in, err := sb.Sim.Install(o)
					if err != nil {
						t.Fatal(err)
					}
					sb.Installations[o] = in.ID
				}
			}},
		{"runner subnets", "no route to the internet",
			func() { setInternetRoute(ctx, t, ec, d, false) },
			func() { setInternetRoute(ctx, t, ec, d, true) }},
		{"webhook deliveries", "401",
			func() { sb.Sim.SetWebhook(sb.WebhookURL, "not-the-secret-0123456789"); runJobNoWait(t, sb) },
			func() { sb.Sim.SetWebhook(sb.WebhookURL, sb.WebhookSecret) }},
		{"spot service-linked role", "AWSServiceRoleForEC2Spot",
			func() {
				if _, err := ic.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String(spotRole)}); err != nil {
					t.Fatal(err)
				}
			}, createSpotRole},
	}
	lasting := map[string]bool{} // a failed delivery stays among the recent ones
	for _, f := range faults {
		// The deployed functions keep running: the syncer (every minute at the sandbox's
		// speed-up) may store an archive again between injection and check, so a fault that
		// did not show is injected again, a few times.
		var rs []Result
		for range faultTries {
			f.inject()
			if rs = Run(ctx, d); !find(t, rs, f.check).OK {
				break
			}
		}
		if r := find(t, rs, f.check); r.OK || !strings.Contains(r.Detail, f.want) {
			t.Errorf("%s fault: ok=%v %q, want a failure naming %q", f.check, r.OK, r.Detail, f.want)
		}
		for _, r := range rs {
			if r.Check != f.check && !r.OK && !lasting[r.Check] {
				t.Errorf("%s fault also failed %s: %s", f.check, r.Check, r.Detail)
			}
		}
		f.undo()
		lasting["webhook deliveries"] = lasting["webhook deliveries"] || f.check == "webhook deliveries"
	}
}

// runJobNoWait queues a job whose delivery the fault will break.
func runJobNoWait(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	if _, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: sb.Repos[0], Labels: sandbox.SmallLabels, Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ds := sb.Sim.Deliveries()
		if len(ds) > 0 && ds[len(ds)-1].StatusCode == 401 {
			return
		}
	}
}

// setInternetRoute removes or restores the 0.0.0.0/0 route of the runner subnets' VPC's main table.
func setInternetRoute(ctx context.Context, t *testing.T, ec *ec2.Client, d *Deployment, on bool) {
	t.Helper()
	subs, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: d.subnetIDs()})
	if err != nil || len(subs.Subnets) == 0 {
		t.Fatalf("subnets: %v", err)
	}
	vpc := aws.ToString(subs.Subnets[0].VpcId)
	tables, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil {
		t.Fatal(err)
	}
	igws, err := ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(igws.InternetGateways) == 0 {
		t.Fatalf("internet gateway of %s: %v", vpc, err)
	}
	for _, rt := range tables.RouteTables {
		if on {
			_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igws.InternetGateways[0].InternetGatewayId})
		} else {
			_, err = ec.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: rt.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0")})
		}
		if err != nil && !strings.Contains(err.Error(), "InvalidRoute.NotFound") {
			t.Fatal(err)
		}
	}
}

// moveArchives moves the bucket's objects under prefix from to prefix to: the syncer's output
// gone, as when it never ran, and back.
func moveArchives(ctx context.Context, t *testing.T, c *s3.Client, bucket, from, to string) {
	t.Helper()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(from)})
	if err != nil || len(out.Contents) == 0 {
		t.Fatalf("objects under %s in %s: %v", from, bucket, err)
	}
	for _, o := range out.Contents {
		key := to + strings.TrimPrefix(aws.ToString(o.Key), from)
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(bucket + "/" + aws.ToString(o.Key))}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
			t.Fatal(err)
		}
	}
}
