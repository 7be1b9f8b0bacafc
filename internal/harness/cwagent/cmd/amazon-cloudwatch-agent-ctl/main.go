// Command amazon-cloudwatch-agent-ctl is the sandbox hosts' CloudWatch agent (package
// cwagent): the real control command's fetch-config/start and stop, and the detached
// process that ships logs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/cwagent"
)

// setupTimeout bounds fetch-config: the boot must not hang on the agent.
const setupTimeout = 30 * time.Second

// agentDir is where the real agent keeps its configuration and logs.
const agentDir = "opt/aws/amazon-cloudwatch-agent"

func main() {
	log.SetFlags(0)
	log.SetPrefix("amazon-cloudwatch-agent-ctl: ")
	action := flag.String("a", "", "fetch-config, stop, status (run is the detached shipper)")
	mode := flag.String("m", "ec2", "ec2 (the only mode a runner host uses)")
	start := flag.Bool("s", false, "start the agent after fetching the configuration")
	source := flag.String("c", "", "ssm:<parameter name> or file:<path>")
	flag.Parse()
	root := os.Getenv("GHR_ROOT") // the sandbox host's file system
	var err error
	switch *action {
	case "fetch-config":
		if *mode != "ec2" {
			err = fmt.Errorf("-m %s: only ec2 is modelled", *mode)
			break
		}
		err = fetchConfig(root, *source, *start)
	case "run":
		err = run(root)
	case "stop":
		err = stop(root)
	case "status":
		_, err = os.Stat(pidFile(root))
	default:
		err = fmt.Errorf("-a %q: want fetch-config, stop or status", *action)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func configFile(root string) string {
	return filepath.Join(root, agentDir, "etc", "amazon-cloudwatch-agent.json")
}

func pidFile(root string) string { return filepath.Join(root, agentDir, "agent.pid") }

func awsConfig(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
}

func fetchConfig(root, source string, start bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	var data []byte
	switch {
	case strings.HasPrefix(source, "ssm:"):
		cfg, err := awsConfig(ctx)
		if err != nil {
			return err
		}
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(strings.TrimPrefix(source, "ssm:")), WithDecryption: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("fetch config: %w", err)
		}
		data = []byte(aws.ToString(out.Parameter.Value))
	case strings.HasPrefix(source, "file:"):
		var err error
		if data, err = os.ReadFile(strings.TrimPrefix(source, "file:")); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-c %q: want ssm:<name> or file:<path>", source)
	}
	if _, err := cwagent.ParseConfig(data); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(configFile(root)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(configFile(root), data, 0o644); err != nil {
		return err
	}
	if !start {
		return nil
	}
	logs, err := os.OpenFile(filepath.Join(root, agentDir, "amazon-cloudwatch-agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logs.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-a", "run")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives the boot script, as a service would
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile(root), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// run ships logs until told to stop, then flushes once more.
func run(root string) error {
	data, err := os.ReadFile(configFile(root))
	if err != nil {
		return err
	}
	c, err := cwagent.ParseConfig(data)
	if err != nil {
		return err
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	cfg, err := awsConfig(ctx)
	if err != nil {
		return err
	}
	id, err := imds.NewFromConfig(cfg).GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		return fmt.Errorf("instance id: %w", err)
	}
	raw, err := io.ReadAll(id.Content)
	id.Content.Close()
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	s := &cwagent.Shipper{API: cloudwatchlogs.NewFromConfig(cfg), Root: root, InstanceID: string(raw), Hostname: host,
		Files: c.Logs.LogsCollected.Files.CollectList, Now: time.Now}
	tick := time.NewTicker(c.FlushInterval())
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				log.Printf("flush: %v", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
			defer cancel()
			return s.Flush(fctx)
		}
	}
}

func stop(root string) error {
	b, err := os.ReadFile(pidFile(root))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return os.Remove(pidFile(root))
}
