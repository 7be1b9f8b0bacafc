package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

// simRunnerRelease builds the simulated runner for this machine's architecture and serves
// it as the actions/runner release the syncer copies to S3. The other Linux architecture
// keeps ghsim's script-only archive: no sandbox host can run it.
func simRunnerRelease(ctx context.Context, root, work string) (*ghsim.Release, error) {
	bin := filepath.Join(work, "Runner.Listener")
	if err := goBuild(ctx, root, "./internal/harness/simrunner/cmd/runner-listener", bin); err != nil {
		return nil, err
	}
	listener, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	archive, err := simrunner.Archive(listener, ghsim.DefaultRunnerVersion)
	if err != nil {
		return nil, err
	}
	target := map[string]string{"amd64": "linux-x64", "arm64": "linux-arm64"}[runtime.GOARCH]
	rel := ghsim.DefaultRunnerRelease()
	for i := range rel.Assets {
		if rel.Assets[i].Name == ghsim.RunnerAssetName(ghsim.DefaultRunnerVersion, target) {
			rel.Assets[i].Content = archive
		}
	}
	return &rel, nil
}

// goBuild builds a static binary of pkg (relative to the repository root) for this machine.
func goBuild(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return os.Chmod(out, 0o755)
}

// startBoots gives the hosts a BootEnv: Options.RealBoots of them run the real boot.
func (s *Sandbox) startBoots(ctx context.Context, awsCfg aws.Config) error {
	dir, err := os.MkdirTemp("", "ghr-hosts-")
	if err != nil {
		return err
	}
	s.bootDir = dir
	env, err := NewBootEnv(ctx, dir, s.Opts.Root)
	if err != nil {
		return err
	}
	s.runners = ghsim.NewRunnerService(s.Sim.Sim)
	s.runners.OnConnect = s.Hosts.runnerConnected
	env.Runners = s.runners
	// Hosts reach AWS through the proxy, as the functions do: its limits are the account's,
	// and it knows their role sessions (Proxy.Credentials).
	env.AWSTarget, env.Region = s.ProxyURL, awsCfg.Region
	env.EC2, env.IAM = ec2.NewFromConfig(awsCfg), iam.NewFromConfig(awsCfg)
	env.Credentials = s.Proxy.Credentials
	s.Hosts.Boot, s.Hosts.RealShare = env, s.Opts.RealBoots
	s.Hosts.Rand = rand.New(rand.NewPCG(s.Opts.Seed, 0x686f7374)) // "host": the seeded share of real boots
	return nil
}
