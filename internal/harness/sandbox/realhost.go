package sandbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

// Real boot limits.
const (
	imdsAddr = "169.254.169.254"
	// hostAWSAddr is where a host reaches AWS: its AWS CLI is pointed there (AWS_ENDPOINT_URL),
	// as an image would point it at a VPC endpoint.
	hostAWSAddr = "127.0.0.1:4566"
	// maxConcurrentBoots bounds boot scripts running at once (until their runner connects):
	// each runs three or four AWS CLI processes of ~0.5 s CPU. On EC2 every instance boots at
	// once, and a boot queued here would count against the autoscaler's overhead in the demo
	// report, so the bound only keeps a 200-host burst's real share from thrashing 2 cores.
	maxConcurrentBoots = 10
	runnerUser         = "ghr-runner" // the runners module's runner_user
)

// al2023OSRelease makes a host look like the module's default image to the boot and to the
// runner's installdependencies.sh.
const al2023OSRelease = `NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023 (ghr sandbox host)"
`

// Stand-ins for what a sandbox host cannot do for real. Everything else the boot calls
// (bash, curl, aws, tar, sha256sum, useradd, runuser) is the real program.
var hostShims = map[string]string{
	// EC2 with instance_initiated_shutdown_behavior = terminate: the sandbox terminates the
	// instance once the boot process ends.
	"shutdown": `#!/bin/bash
printf '%s\n' "$*" >>"$GHR_HOST_STATE/poweroff"
`,
	// A sandbox host has no init system: starting a service is recorded.
	"systemctl": `#!/bin/bash
printf 'systemctl %s\n' "$*" >>"$GHR_HOST_STATE/services"
`,
	// OS packages are not installed on a sandbox host; the request is recorded and checked.
	// A package the sandbox has a stand-in for (packageDir) becomes available on the host.
	"dnf": `#!/bin/bash
printf 'dnf %s\n' "$*" >>"$GHR_HOST_STATE/packages"
case "${1:-}" in
install)
	for pkg in "$@"; do
		if [[ -d $GHR_PACKAGE_DIR/$pkg ]]; then
			mkdir -p "$GHR_HOST_STATE/bin" && ln -sf "$GHR_PACKAGE_DIR/$pkg"/* "$GHR_HOST_STATE/bin/"
		fi
	done
	echo "Complete!" ;;
*) echo "dnf (ghr sandbox): only install is recorded, not: $*" >&2; exit 1 ;;
esac
`,
}

// failingRunuser replaces runuser on a host whose bootstrap is made to fail
// (Hosts.SetBootFailures): the boot reaches its token, then cannot start the runner.
const failingRunuser = `#!/bin/bash
echo "runuser: cannot set groups: Operation not permitted (injected by the sandbox)" >&2
exit 1
`

// BootEnv runs instances' real boots: a network namespace per host with IMDSv2 on
// 169.254.169.254, the emulator on hostAWSAddr and GitHub's runner service on
// simrunner.ServiceAddr; the instance's own rendered user data run by bash.
type BootEnv struct {
	Dir       string // host directories; world-readable so the runner user can reach its own
	AWSTarget string // the emulator's URL, for the hosts' AWS calls
	Region    string
	Runners   *ghsim.RunnerService
	EC2       interface {
		DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
		DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	}
	IAM interface {
		GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, opts ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	}
	// Credentials returns credentials of roleARN: awsproxy.Proxy.Credentials, which also
	// makes the proxy know the key as the role's.
	Credentials func(ctx context.Context, roleARN, session string) (aws.Credentials, error)

	path string
	sem  chan struct{}
}

// BootStat is one real boot's cost.
type BootStat struct {
	InstanceID string
	Runner     string        // the runner's name, once it connected
	Wall       time.Duration // boot process start to runner connected (or the boot's end)
	CPU        time.Duration // user+system of the boot process tree, until it ended
	PoweredOff bool
	Log        string // the boot log (/var/log/ghr-bootstrap.log of the host)
	// Packages are the package manager calls the boot made, as the dnf stand-in recorded
	// them ("dnf install -y git jq ...").
	Packages []string
}

// packageDir holds, per OS package, the stand-ins a host gets when its boot installs it
// (the dnf shim links them into the host's own bin directory).
const packageDir = "packages"

// NewBootEnv prepares dir (shims, package stand-ins built from the repository at root) and
// the runner user.
func NewBootEnv(ctx context.Context, dir, root string) (*BootEnv, error) {
	e := &BootEnv{Dir: dir, sem: make(chan struct{}, maxConcurrentBoots)}
	shims := filepath.Join(dir, "bin")
	if err := os.MkdirAll(shims, 0o755); err != nil {
		return nil, err
	}
	agent := filepath.Join(dir, packageDir, "amazon-cloudwatch-agent", "amazon-cloudwatch-agent-ctl")
	if err := goBuild(ctx, root, "./internal/harness/cwagent/cmd/amazon-cloudwatch-agent-ctl", agent); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(dir, packageDir), 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	for name, body := range hostShims {
		if err := os.WriteFile(filepath.Join(shims, name), []byte(body), 0o755); err != nil {
			return nil, err
		}
	}
	awsDir, err := awsCLIDir(ctx)
	if err != nil {
		return nil, err
	}
	e.path = strings.Join([]string{shims, awsDir, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}, ":")
	// The image's runner user, in the docker group. Created here once rather than by the
	// first boots at once: concurrent useradd and usermod calls on the one /etc/passwd and
	// /etc/group all sandbox hosts share would race.
	steps := [][]string{{"groupadd", "-f", "docker"}}
	if exec.CommandContext(ctx, "getent", "passwd", runnerUser).Run() != nil {
		steps = append(steps, []string{"useradd", "--create-home", "--user-group", "--shell", "/bin/bash", runnerUser})
	}
	steps = append(steps, []string{"usermod", "-aG", "docker", runnerUser})
	for _, st := range steps {
		if out, err := exec.CommandContext(ctx, st[0], st[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", strings.Join(st, " "), err, out)
		}
	}
	return e, nil
}

// awsCLIDir finds the real AWS CLI's directory (behind a pyenv shim when it is one: the shim
// needs pyenv's environment, which a host does not have).
func awsCLIDir(ctx context.Context) (string, error) {
	p, err := exec.LookPath("aws")
	if err != nil {
		return "", errors.New("real boots need the AWS CLI (scripts/check-tools.sh)")
	}
	if strings.Contains(p, "/.pyenv/shims/") {
		out, err := exec.CommandContext(ctx, "pyenv", "which", "aws").Output()
		if err != nil {
			return "", fmt.Errorf("pyenv which aws: %w", err)
		}
		p = strings.TrimSpace(string(out))
	}
	return filepath.Dir(p), nil
}

// hostKey marks a runner-service request with the host it came from.
type hostKey struct{}

// realBoot runs instance in's user data in its own namespace until ctx ends (the instance
// is gone). mu guards x's fields; done gets the boot's cost when the boot process ends.
func (e *BootEnv) realBoot(ctx context.Context, x *host, in ec2types.Instance, mu *sync.Mutex, done func(BootStat)) error {
	dir := filepath.Join(e.Dir, x.id)
	state := filepath.Join(dir, "state")
	for _, d := range []string{filepath.Join(dir, "root"), filepath.Join(dir, "home"), state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	_ = os.Chmod(dir, 0o755)
	script, err := e.userData(ctx, x.id)
	if err != nil {
		return err
	}
	if x.failBoot {
		// An injected bootstrap failure after the token read: the runner cannot be started
		// as its user, so the script's own error path powers the instance off.
		bin := filepath.Join(state, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(bin, "runuser"), []byte(failingRunuser), 0o755); err != nil {
			return err
		}
	}
	scriptPath := filepath.Join(dir, "user-data")
	if err := os.WriteFile(scriptPath, script, 0o700); err != nil {
		return err
	}
	md := &imds{instanceID: x.id, region: e.Region, az: e.Region + "a", tags: map[string]string{}}
	for _, t := range in.Tags {
		md.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	profile, err := e.profileOf(ctx, in)
	if err != nil {
		return err
	}
	if profile != "" {
		roleARN, err := e.roleOf(ctx, profile)
		if err != nil {
			return err
		}
		md.role = path.Base(roleARN)
		md.creds = e.cachedCredentials(roleARN, x.id)
	}

	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	var release sync.Once
	free := func() { release.Do(func() { <-e.sem }) }
	defer free()

	ns, err := newNetns(ctx)
	if err != nil {
		return err
	}
	defer ns.delete()
	mu.Lock()
	x.ns = ns.kill
	mu.Unlock()
	if err := os.MkdirAll(ns.etcDir(), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(ns.etcDir(), "os-release"), []byte(al2023OSRelease), 0o644); err != nil {
		return err
	}
	target, err := url.Parse(e.AWSTarget)
	if err != nil {
		return err
	}
	awsProxy := httputil.NewSingleHostReverseProxy(target)
	runner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.Runners.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), hostKey{}, x)))
	})
	for _, l := range []struct {
		addr string
		h    http.Handler
		hops int
	}{{imdsAddr + ":80", md, imdsDefaultHopTTL}, {hostAWSAddr, awsProxy, 0}, {simrunner.ServiceAddr, runner, 0}} {
		ln, err := ns.listen(l.addr)
		if err != nil {
			return err
		}
		if l.hops > 0 {
			ln = hopLimited{Listener: ln, hops: l.hops}
		}
		srv := &http.Server{Handler: l.h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln) //nolint:errcheck // ends with Close
		defer srv.Close()
	}

	console, err := os.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		return err
	}
	defer console.Close()
	cmd := exec.Command("ip", "netns", "exec", ns.name, "bash", scriptPath)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Join(state, "bin") + ":" + e.path, "GHR_PACKAGE_DIR=" + filepath.Join(e.Dir, packageDir), "HOME=" + filepath.Join(dir, "home"), "LANG=C.UTF-8",
		"GHR_ROOT=" + filepath.Join(dir, "root"), "GHR_HOST_STATE=" + state, "AWS_ENDPOINT_URL=http://" + hostAWSAddr}
	cmd.Stdout, cmd.Stderr = console, console
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var wall time.Duration
	mu.Lock()
	x.connected = func() {
		free()
		wall = time.Since(start) // under mu: runnerConnected holds it
	}
	mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-ctx.Done():
		// Terminated from outside while the boot process ran (clean-up terminates a finished
		// ephemeral runner during its power-off delay): the boot's cost still counts.
		ns.kill()
		<-exited
	}
	free()
	mu.Lock()
	st := BootStat{InstanceID: x.id, Runner: x.runner, Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	mu.Unlock()
	if st.Wall == 0 {
		st.Wall = time.Since(start)
	}
	_, err = os.Stat(filepath.Join(state, "poweroff"))
	st.PoweredOff = err == nil
	if b, err := os.ReadFile(filepath.Join(dir, "root", "var", "log", "ghr-bootstrap.log")); err == nil {
		st.Log = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(state, "packages")); err == nil {
		st.Packages = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	done(st)
	<-ctx.Done() // a persistent runner's service lives on until the instance is terminated
	return nil
}

// cachedCredentials serves one role session per host, renewed before it expires.
func (e *BootEnv) cachedCredentials(roleARN, session string) func(context.Context) (aws.Credentials, error) {
	var mu sync.Mutex
	var c aws.Credentials
	return func(ctx context.Context) (aws.Credentials, error) {
		mu.Lock()
		defer mu.Unlock()
		if c.AccessKeyID != "" && time.Until(c.Expires) > imdsCredsRefresh {
			return c, nil
		}
		fresh, err := e.Credentials(ctx, roleARN, session)
		if err == nil {
			c = fresh
		}
		return fresh, err
	}
}

// profileWait bounds how long a boot looks for its instance profile: a fleet's instance is
// listed before the proxy has associated its template's profile (EC2 launches it with the
// profile), which in a burst on a busy machine took over 3 s; a boot that started then
// would find no credentials. Only an instance without a profile waits this long.
const profileWait = 30 * time.Second

// profileOf is the instance's profile ARN, "" when it has none after profileWait.
func (e *BootEnv) profileOf(ctx context.Context, in ec2types.Instance) (string, error) {
	deadline := time.Now().Add(profileWait)
	for {
		if in.IamInstanceProfile != nil && aws.ToString(in.IamInstanceProfile.Arn) != "" {
			return aws.ToString(in.IamInstanceProfile.Arn), nil
		}
		if time.Now().After(deadline) {
			return "", nil
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		out, err := e.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(in.InstanceId)}})
		if err != nil {
			return "", fmt.Errorf("describe %s: %w", aws.ToString(in.InstanceId), err)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				in = i
			}
		}
	}
}

func (e *BootEnv) roleOf(ctx context.Context, profileARN string) (string, error) {
	out, err := e.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(path.Base(profileARN))})
	if err != nil {
		return "", fmt.Errorf("instance profile %s: %w", profileARN, err)
	}
	if len(out.InstanceProfile.Roles) != 1 {
		return "", fmt.Errorf("instance profile %s has %d roles, want 1", profileARN, len(out.InstanceProfile.Roles))
	}
	return aws.ToString(out.InstanceProfile.Roles[0].Arn), nil
}

// userData is the instance's user data as cloud-init would run it (gzip unpacked).
func (e *BootEnv) userData(ctx context.Context, id string) ([]byte, error) {
	out, err := e.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		return nil, fmt.Errorf("user data of %s: %w", id, err)
	}
	if out.UserData == nil || aws.ToString(out.UserData.Value) == "" {
		return nil, fmt.Errorf("instance %s has no user data", id)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value))
	if err != nil {
		return nil, fmt.Errorf("user data of %s: %w", id, err)
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("user data of %s: %w", id, err)
		}
	}
	return raw, nil
}

var _ net.Listener = hopLimited{}
