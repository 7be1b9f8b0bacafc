package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nsCommandTimeout bounds one `ip` call: they take milliseconds; a hung one is a broken host.
const nsCommandTimeout = 10 * time.Second

// netns is a host's own network namespace: only a loopback interface carrying the IMDS
// address, so everything the host can reach is a listener the sandbox put there.
type netns struct{ name string }

func newNetns(ctx context.Context) (*netns, error) {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	ns := &netns{name: "ghr-" + hex.EncodeToString(b)}
	for _, args := range [][]string{
		{"netns", "add", ns.name},
		{"-n", ns.name, "link", "set", "lo", "up"},
		{"-n", ns.name, "addr", "add", imdsAddr + "/32", "dev", "lo"},
	} {
		if err := ipCmd(ctx, args...); err != nil {
			ns.delete()
			return nil, err
		}
	}
	return ns, nil
}

func ipCmd(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, nsCommandTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// etcDir holds files `ip netns exec` bind-mounts over /etc inside the namespace.
func (ns *netns) etcDir() string { return filepath.Join("/etc/netns", ns.name) }

// kill ends every process in the namespace: the machine is gone.
func (ns *netns) kill() {
	ctx, cancel := context.WithTimeout(context.Background(), nsCommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns.name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (ns *netns) delete() {
	ns.kill()
	_ = ipCmd(context.Background(), "netns", "delete", ns.name)
	_ = os.RemoveAll(ns.etcDir())
}
