package sandbox

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// listen opens a TCP listener inside the namespace. The socket belongs to the namespace it
// was created in, so only this thread switches, and only for the socket call.
func (ns *netns) listen(addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// Not unlocked unless the thread is back in its own namespace: a goroutine that exits
		// locked takes its thread with it.
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns.name))
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := setns(target.Fd()); err != nil {
			ch <- result{err: fmt.Errorf("enter %s: %w", ns.name, err)}
			return
		}
		ln, lerr := net.Listen("tcp4", addr)
		if err := setns(self.Fd()); err == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{ln, lerr}
	}()
	r := <-ch
	return r.ln, r.err
}

func setns(fd uintptr) error { return unix.Setns(int(fd), unix.CLONE_NEWNET) }
