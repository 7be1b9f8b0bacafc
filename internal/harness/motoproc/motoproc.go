// Package motoproc runs moto_server, a local AWS emulator, on a free loopback port. The
// sandbox CLI and the integration tests both use it.
package motoproc

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Limits of starting the emulator.
const (
	startTimeout = 30 * time.Second // a cold Python start on a busy 2-core CI machine
	pollEvery    = 50 * time.Millisecond
	// Region is moto's default; the AMIs and zones it knows live here.
	Region = "us-east-1"
)

// ErrNotInstalled says how to get the emulator.
var ErrNotInstalled = errors.New("moto_server not found on PATH: run scripts/check-tools.sh (it installs moto[server]==5.2.1 with pip)")

// serve runs moto_server's own main with its per-request package listing done once (see
// the file for why).
//
//go:embed serve.py
var serve string

// Proc is a running moto_server.
type Proc struct {
	URL    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs moto_server on a free 127.0.0.1 port, logging to logs, and waits until it answers.
func Start(ctx context.Context, logs io.Writer) (*Proc, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("free port: %w", err)
	}
	cmd := exec.Command(interpreter(bin), "-c", serve, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = procAttr()
	p := &Proc{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the child exits, not
		// the process: this goroutine keeps its thread until moto_server is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	if err := p.wait(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// interpreter is the Python that runs moto_server: its script's own (pip writes the
// interpreter's path into the #! line), or python3 on PATH when moto_server is a wrapper
// such as a pyenv shim (scripts/check-tools.sh installs moto with python3 -m pip).
func interpreter(bin string) string {
	f, err := os.Open(bin)
	if err != nil {
		return "python3"
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if exe, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok {
		if exe = strings.TrimSpace(exe); !strings.Contains(exe, " ") && strings.HasPrefix(filepath.Base(exe), "python") {
			return exe
		}
	}
	return "python3"
}

func (p *Proc) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/moto-api/data.json", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return errors.New("moto_server exited during start")
		case <-ctx.Done():
			return fmt.Errorf("moto_server gave no answer on %s within %s", p.URL, startTimeout)
		case <-time.After(pollEvery):
		}
	}
}

// Stop ends the emulator.
func (p *Proc) Stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// AWSConfig returns an SDK config with static test credentials aimed at endpoint. It makes
// one attempt per call: tests of the proxy's faults and limits see every answer as sent.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	}
}

// HarnessConfig is AWSConfig for the harness's own calls to moto_server (set-up, lookups,
// the sandbox's observations), which retry as the SDK does by default: a loaded moto_server
// resets a connection now and then (CI's getting-started test lost an AssumeRole to "use of
// closed network connection"). No client-side retry quota: a long run could spend it.
func HarnessConfig(endpoint string) aws.Config {
	c := AWSConfig(endpoint)
	c.RetryMaxAttempts = 0
	c.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
	}
	return c
}

// Env is what a ghr binary needs to use the emulator at endpoint.
func Env(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_REGION":            Region,
		"AWS_DEFAULT_REGION":    Region,
		"AWS_ACCESS_KEY_ID":     "testing",
		"AWS_SECRET_ACCESS_KEY": "testing",
	}
}

// Reset wipes all emulator state.
func Reset(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkTimeout bounds the probe of an emulator the user named.
const checkTimeout = 5 * time.Second

// Check confirms endpoint is a moto_server on a loopback address: the sandbox never aims its
// test credentials, or its resets, at anything else.
func Check(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q is not an endpoint URL like http://127.0.0.1:5000", endpoint)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address: the sandbox only talks to an emulator on this machine", host)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(endpoint, "/")+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no moto_server answers at %s: %w", endpoint, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered GET /moto-api/ with %s: not a moto_server", endpoint, resp.Status)
	}
	return nil
}
