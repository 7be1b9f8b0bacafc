package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/sandbox"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/harness/tfmodule"
	"github.com/ghr-dev/ghr/internal/release"
)

// docBlock is one shell block of docs/getting-started.md with the marker before it:
// "sandbox" (TestGettingStartedOnTheSandbox runs it), "covered-by TestX" (TestX runs it) or
// "real (why)" (needs a real account; only its ghr flags are checked).
type docBlock struct {
	line   int
	marker string
	cmds   []string
}

var markerRule = regexp.MustCompile(`^<!-- commands: (sandbox|covered-by (Test\w+)|real \(.+\)) -->$`)

func gettingStarted(t *testing.T) (root string, blocks []docBlock) {
	t.Helper()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "docs", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur *docBlock
	prev := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case cur == nil && (line == "```bash" || line == "```sh"):
			cur = &docBlock{line: n, marker: prev}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			if cmd, _, _ := strings.Cut(line, "#"); strings.TrimSpace(cmd) != "" { // shell comments
				cur.cmds = append(cur.cmds, strings.TrimSpace(cmd))
			}
		}
		if line != "" {
			prev = line
		}
	}
	return root, blocks
}

// TestGettingStartedCommands: every shell block of the guide says how it is tested, a
// covered-by names a test that exists, and every `ghr` command is one this binary has, with
// flags it accepts (-h is appended, which the parser reaches only after accepting every flag
// before it, so nothing is contacted).
func TestGettingStartedCommands(t *testing.T) {
	root, blocks := gettingStarted(t)
	if len(blocks) < 8 {
		t.Fatalf("found only %d command blocks in getting-started.md", len(blocks))
	}
	tests := testFuncs(t, root)
	for _, b := range blocks {
		m := markerRule.FindStringSubmatch(b.marker)
		if m == nil {
			t.Errorf("getting-started.md:%d: block without a <!-- commands: sandbox|covered-by TestX|real (why) --> marker (got %q)", b.line, b.marker)
			continue
		}
		if m[2] != "" && !tests[m[2]] {
			t.Errorf("getting-started.md:%d: covered by %s, which no test file defines", b.line, m[2])
		}
		for _, c := range b.cmds {
			if fields := strings.Fields(c); fields[0] == "ghr" {
				var out strings.Builder
				if err := run(context.Background(), append(fields[1:], "-h"), &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage") {
					t.Errorf("getting-started.md:%d: %s: %v", b.line, c, err)
				}
			}
		}
	}
}

// testFuncs are the names of the repository's test functions.
func testFuncs(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	rule := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range rule.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestGettingStartedOnTheSandbox runs every "sandbox" block of the guide, in order, as a user
// would against their account: the zips come from the guide's own `make dist` and `ghr lambdas
// fetch` (served by a local release server), the module is deployed from them, `aws` and
// `ghr doctor` talk to the sandbox's AWS endpoint, and every command must succeed. The only
// changes to the guide's text: this machine's architecture for arm64, the sandbox's region
// for the example one, and -base-url for the local release server.
func TestGettingStartedOnTheSandbox(t *testing.T) {
	slow.Skip(t, slow.EndToEnd)
	needTools(t)
	ctx := context.Background()
	root, blocks := gettingStarted(t)
	goarch := runtime.GOARCH
	subst := strings.NewReplacer("-arch arm64", "-arch "+goarch, "ARCH=arm64", "ARCH="+goarch, "eu-central-1", motoproc.Region)
	work, rel := t.TempDir(), t.TempDir()
	var releaseURL string
	runLine := func(line string) {
		t.Helper()
		line = subst.Replace(line)
		start := time.Now()
		if fields := strings.Fields(line); fields[0] == "ghr" {
			if strings.HasPrefix(line, "ghr lambdas fetch") {
				fields = append(fields, "-base-url", releaseURL)
			}
			var out, errOut syncBuffer
			wd, _ := os.Getwd()
			if err := os.Chdir(work); err != nil {
				t.Fatal(err)
			}
			err := run(ctx, fields[1:], &out, &errOut)
			os.Chdir(wd) //nolint:errcheck // back where the test started
			if err != nil {
				t.Fatalf("%s: %v\n%s%s", line, err, out.String(), errOut.String())
			}
			t.Logf("ok %s (%s)", line, time.Since(start).Round(time.Millisecond))
			return
		}
		cmd := exec.CommandContext(ctx, "bash", "-ec", line)
		cmd.Dir = work
		switch {
		case strings.HasPrefix(line, "make "):
			cmd.Dir = root // "in a clone"
		case strings.HasPrefix(line, "sha256sum "):
			cmd.Dir = rel // the downloaded release files
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		t.Logf("ok %s (%s)", line, time.Since(start).Round(time.Millisecond))
	}
	var sandboxed []string
	for _, b := range blocks {
		if b.marker == "<!-- commands: sandbox -->" {
			sandboxed = append(sandboxed, b.cmds...)
		}
	}
	done := map[string]bool{}
	// The zips first: the sandbox deploys the ones the guide's commands produced. `make dist`
	// builds them; a release of them is what `ghr lambdas fetch` downloads and verifies.
	for _, line := range sandboxed {
		if strings.HasPrefix(line, "make dist") {
			runLine(line)
			done[line] = true
		}
	}
	if !done["make dist ARCH=arm64"] {
		t.Fatal("the guide has no `make dist ARCH=arm64` sandbox block")
	}
	for _, fn := range release.FunctionNames {
		b, err := os.ReadFile(filepath.Join(root, "dist", fn+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rel, release.FunctionAsset(fn, goarch)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := release.WriteSums(rel); err != nil {
		t.Fatal(err)
	}
	releaseURL = serveDir(t, "0.1.0", rel)
	for _, line := range sandboxed {
		if strings.HasPrefix(line, "ghr lambdas fetch") {
			runLine(line)
			done[line] = true
		}
	}
	sb, err := sandbox.Up(ctx, sandbox.Options{Root: root, Prefix: "ghr", DistDir: filepath.Join(work, "ghr-dist"), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	for k, v := range motoproc.Env(sb.ProxyURL) {
		t.Setenv(k, v)
	}
	// Step 6's workflow: a job that runs, so the App has deliveries and the syncer's archive is stored.
	j, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: sb.Repos[0], Labels: sandbox.SmallLabels, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(time.Second) {
		if got, _ := sb.Sim.Job(j.ID); got.Status == ghsim.StatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d never completed", j.ID)
		}
	}
	writeGuideConfig(t, root, work, sb)
	for _, line := range sandboxed {
		if !done[line] {
			runLine(line)
		}
	}
}

// writeGuideConfig puts step 5's configuration in dir as main.tf for `terraform plan` against
// the sandbox. Changed from the guide: the module's source is this checkout (the GitHub source
// needs the network), the region is the sandbox's, and the VPC and subnets are the emulator's
// default ones. main_override.tf aims the provider at the emulator with its dummy credentials,
// the App key file is the simulator's, and the providers come from the mirror when one is set.
func writeGuideConfig(t *testing.T, root, dir string, sb *sandbox.Sandbox) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## 5.")
	_, rest, ok2 := strings.Cut(rest, "```hcl\n")
	hcl, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("getting-started.md: no hcl block in step 5")
	}
	ec := ec2.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	vpcs, err := ec.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("default vpc: %v", err)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := ec.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(subnets.Subnets) < 2 {
		t.Fatalf("subnets of %s: %v", vpc, err)
	}
	ids := []string{aws.ToString(subnets.Subnets[0].SubnetId), aws.ToString(subnets.Subnets[1].SubnetId)}
	hcl = strings.NewReplacer(
		`"github.com/ghr-dev/ghr//terraform?ref=v0.1.0"`, strconv.Quote(filepath.Join(root, "terraform")),
		`"eu-central-1"`, strconv.Quote(motoproc.Region),
		`"vpc-..."`, strconv.Quote(vpc),
		`["subnet-...", "subnet-..."]`, fmt.Sprintf("[%q, %q]", ids[0], ids[1]),
	).Replace(hcl)
	for _, placeholder := range []string{"github.com/", "eu-central-1", "vpc-...", "subnet-..."} {
		if strings.Contains(hcl, placeholder) {
			t.Fatalf("step 5's configuration changed: %q is no longer where this test replaces it", placeholder)
		}
	}
	endpoints := ""
	for _, svc := range []string{"apigatewayv2", "cloudwatch", "cloudwatchlogs", "ec2", "events", "iam", "kms", "lambda", "s3", "scheduler", "sns", "sqs", "ssm", "sts"} {
		endpoints += fmt.Sprintf("    %s = %q\n", svc, sb.Moto)
	}
	override := fmt.Sprintf(`provider "aws" {
  region                      = %q
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {
%s  }
}
`, motoproc.Region, endpoints)
	rc := filepath.Join(dir, "terraformrc")
	for name, text := range map[string]string{"main.tf": hcl, "main_override.tf": override, "app.private-key.pem": string(sb.Sim.PrivateKeyPEM()), rc: tfmodule.CLIConfig()} {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TF_CLI_CONFIG_FILE", rc)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_VAR_webhook_secret", sb.WebhookSecret)
}

// serveDir publishes dir's files as release v<version> of ghr on a GitHub simulator.
func serveDir(t *testing.T, version, dir string) string {
	t.Helper()
	r, err := ghsim.DirRelease(release.Repo, "v"+version, dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ghsim.Start(context.Background(), ghsim.Options{RunnerReleases: []ghsim.Release{ghsim.DefaultRunnerRelease(), r}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}
