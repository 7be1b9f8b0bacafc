package sandbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/bootstrap/bootstraptest"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/syncer"
	"github.com/ghr-dev/ghr/internal/tags"
)

const (
	rhEnv    = "ghr-rh"
	rhConfig = "small"
	rhBucket = "ghr-rh-dist"
)

// realWorld is what a real boot needs without a deployment: the emulator with a bucket
// holding the simulated runner, a runner role and instance profile, the simulator with an
// org, and hosts that boot every instance for real.
type realWorld struct {
	ctx     context.Context
	cfg     aws.Config
	sim     *ghsim.Server
	hosts   *Hosts
	profile string
	archive []byte
}

func newRealWorld(t *testing.T) *realWorld {
	t.Helper()
	if testing.Short() {
		t.Skip("boots real hosts: network namespaces, the AWS CLI, the simulated runner")
	}
	if os.Geteuid() != 0 {
		t.Skip("real boots need root (network namespaces)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	moto := motoserver.Start(t)
	w := &realWorld{ctx: ctx, cfg: moto.AWSConfig()}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := simRunnerRelease(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rel.Assets {
		if strings.Contains(a.Name, "linux-"+bootstraptest.DistArch()) {
			w.archive = a.Content
		}
	}
	sim, err := ghsim.Start(ctx, ghsim.Options{RunnerReleases: []ghsim.Release{*rel}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	if _, err := sim.AddOrg("octo-org"); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddRepo("octo-org", "app"); err != nil {
		t.Fatal(err)
	}
	w.sim = sim
	s3c := s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(rhBucket)}); err != nil {
		t.Fatal(err)
	}
	w.putArchive(t, w.archive)
	ic := iam.NewFromConfig(w.cfg)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ghr-rh-runner"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ghr-rh-runner")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ghr-rh-runner"), RoleName: role.Role.RoleName}); err != nil {
		t.Fatal(err)
	}
	w.profile = aws.ToString(prof.InstanceProfile.Arn)

	env, err := NewBootEnv(ctx, tempHostDir(t), root)
	if err != nil {
		t.Fatal(err)
	}
	rs := ghsim.NewRunnerService(sim.Sim)
	t.Cleanup(rs.Close)
	env.Runners, env.AWSTarget, env.Region = rs, moto.URL, w.cfg.Region
	proxy, err := awsproxy.New(moto.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	env.EC2, env.IAM, env.Credentials = ec2.NewFromConfig(w.cfg), ic, proxy.Credentials
	w.hosts = &Hosts{EC2: ec2.NewFromConfig(w.cfg), SSM: ssm.NewFromConfig(w.cfg), Sim: sim.Sim, Prefix: rhEnv,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Boot: env, RealShare: 1}
	rs.OnConnect = w.hosts.runnerConnected
	done := make(chan struct{})
	go func() { defer close(done); w.hosts.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// tempHostDir is outside the test's 0700 temp dir: the runner user must reach its files.
func tempHostDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ghr-hosts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (w *realWorld) putArchive(t *testing.T, b []byte) {
	t.Helper()
	s3c := s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(rhBucket), Key: aws.String(syncer.Key("linux-" + bootstraptest.DistArch())),
		Body: bytes.NewReader(b), ServerSideEncryption: s3types.ServerSideEncryptionAes256}); err != nil {
		t.Fatal(err)
	}
}

// launch starts an instance with the module's user data (rendered as Terraform renders it).
func (w *realWorld) launch(t *testing.T, tokenWait int) string {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(bootstraptest.TemplatesDir(), "user-data.sh.tftpl"))
	if err != nil {
		t.Fatal(err)
	}
	start, err := os.ReadFile(filepath.Join(bootstraptest.TemplatesDir(), "start-runner.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := bootstraptest.Render(string(tmpl), map[string]string{
		"metadata_url": "http://169.254.169.254", "environment": rhEnv, "runner_config": rhConfig, "dist_bucket": rhBucket,
		"runner_user": runnerUser, "runner_dir": "/opt/actions-runner", "token_wait_timeout_seconds": strconv.Itoa(tokenWait),
		"shutdown_delay_seconds": "0", "cloudwatch_config_parameter": "", "install_software": "docker git jq amazon-cloudwatch-agent",
		"pre_install_script": "", "post_install_script": "", "start_runner_script": string(start),
	})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(script))
	_ = zw.Close()
	out, err := ec2.NewFromConfig(w.cfg).RunInstances(w.ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeM5Large, UserData: aws.String(base64.StdEncoding.EncodeToString(gz.Bytes())),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(w.profile)},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String(tags.Environment), Value: aws.String(rhEnv)}, {Key: aws.String(tags.RunnerConfig), Value: aws.String(rhConfig)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func (w *realWorld) putToken(t *testing.T, id string, labels ...string) {
	t.Helper()
	reg, err := w.sim.NewRegistrationToken("octo-org")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := runnertoken.Registration{URL: "https://github.com/octo-org", Token: reg, Name: "ghr-rh-" + id, Labels: labels, Ephemeral: true}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssm.NewFromConfig(w.cfg).PutParameter(w.ctx, &ssm.PutParameterInput{Name: aws.String(tokenName(id)), Value: aws.String(doc), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
}

func tokenName(id string) string { return "/" + rhEnv + "/runners/" + rhConfig + "/tokens/" + id }

// waitBoot waits for id's boot to end and its instance to be terminated.
func (w *realWorld) waitBoot(t *testing.T, id string, within time.Duration) BootStat {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, b := range w.hosts.BootStats() {
			if b.InstanceID != id {
				continue
			}
			out, err := ec2.NewFromConfig(w.cfg).DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
			if err == nil && len(out.Reservations) == 1 {
				if s := out.Reservations[0].Instances[0].State.Name; s == ec2types.InstanceStateNameTerminated || s == ec2types.InstanceStateNameShuttingDown {
					return b
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("instance %s: boot did not end with a power-off within %s (boots: %+v)", id, within, w.hosts.BootStats())
	return BootStat{}
}

// TestRealHostRunsAJob: the unmodified user data reads the instance's identity over IMDSv2,
// downloads the runner from S3 and reads then deletes its token with the instance role's
// credentials; the simulated runner registers with exactly the token's labels, takes one job
// and the host powers off.
func TestRealHostRunsAJob(t *testing.T) {
	w := newRealWorld(t)
	id := w.launch(t, 60)
	w.putToken(t, id, "ghr-small")
	job, err := w.sim.QueueJob(ghsim.JobSpec{Repo: "octo-org/app", Labels: []string{"ghr-small"}, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := w.waitBoot(t, id, 3*time.Minute)
	t.Logf("boot: %s wall to runner connected, %s CPU\n%s", b.Wall.Round(time.Millisecond), b.CPU.Round(time.Millisecond), b.Log)
	for _, want := range []string{"runner token read and deleted", "Listening for Jobs", "completed with result: Succeeded", "powering off"} {
		if !strings.Contains(b.Log, want) {
			t.Errorf("boot log lacks %q", want)
		}
	}
	if j, _ := w.sim.Job(job.ID); j.Status != ghsim.StatusCompleted || j.RunnerName != "ghr-rh-"+id {
		t.Errorf("job %s by %q, want completed by ghr-rh-%s", j.Status, j.RunnerName, id)
	}
	_, err = ssm.NewFromConfig(w.cfg).GetParameter(w.ctx, &ssm.GetParameterInput{Name: aws.String(tokenName(id))})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("token still there after the boot: %v", err)
	}
	if p, ok := ParseBootPhases(b.Log); !ok || p.IMDS <= 0 || p.Connected < p.Token {
		t.Errorf("boot phases %+v (complete %t)", p, ok)
	} else {
		t.Logf("phases: imds %s, download %s, token %s, connected %s", p.IMDS, p.Download, p.Token, p.Connected)
	}
	pk, _ := os.ReadFile(filepath.Join(w.hosts.Boot.Dir, id, "state", "packages"))
	t.Logf("packages asked for:\n%s", pk)
	if !strings.Contains(string(pk), "dnf install -y lttng-ust openssl-libs krb5-libs zlib libicu") {
		t.Errorf("the runner's installdependencies.sh did not ask dnf for its packages: %q", pk)
	}
}

// TestRealHostBootFailuresPowerOff: a boot that cannot finish powers the instance off, and
// its log says why.
func TestRealHostBootFailuresPowerOff(t *testing.T) {
	w := newRealWorld(t)
	t.Run("missing token", func(t *testing.T) {
		id := w.launch(t, 2)
		b := w.waitBoot(t, id, 2*time.Minute)
		if !strings.Contains(b.Log, "no runner token at "+tokenName(id)) || !b.PoweredOff {
			t.Errorf("powered off %t, log:\n%s", b.PoweredOff, b.Log)
		}
	})
	t.Run("corrupt archive", func(t *testing.T) {
		w.putArchive(t, w.archive[:len(w.archive)/2])
		defer w.putArchive(t, w.archive)
		id := w.launch(t, 60)
		w.putToken(t, id, "ghr-small")
		b := w.waitBoot(t, id, 2*time.Minute)
		if !strings.Contains(b.Log, "could not get the runner from s3://"+rhBucket) || !b.PoweredOff {
			t.Errorf("powered off %t, log:\n%s", b.PoweredOff, b.Log)
		}
	})
}
