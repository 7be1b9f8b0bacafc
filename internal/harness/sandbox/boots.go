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
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", bin, "./internal/harness/simrunner/cmd/runner-listener")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the simulated runner: %w\n%s", err, out)
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

// startBoots gives the hosts a BootEnv: Options.RealBoots of them run the real boot.
func (s *Sandbox) startBoots(ctx context.Context, awsCfg aws.Config) error {
	dir, err := os.MkdirTemp("", "ghr-hosts-")
	if err != nil {
		return err
	}
	s.bootDir = dir
	env, err := NewBootEnv(ctx, dir)
	if err != nil {
		return err
	}
	s.runners = ghsim.NewRunnerService(s.Sim.Sim)
	s.runners.OnConnect = s.Hosts.runnerConnected
	env.Runners = s.runners
	env.AWSTarget, env.Region = s.Moto, awsCfg.Region
	env.EC2, env.IAM = ec2.NewFromConfig(awsCfg), iam.NewFromConfig(awsCfg)
	env.Credentials = s.Proxy.Credentials
	s.Hosts.Boot, s.Hosts.RealShare = env, s.Opts.RealBoots
	s.Hosts.Rand = rand.New(rand.NewPCG(s.Opts.Seed, 0x686f7374)) // "host": the seeded share of real boots
	return nil
}
