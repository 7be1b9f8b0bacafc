package motoproc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// childEnv makes the test binary a process that starts moto_server and dies without
// stopping it, as a panicking or timed-out test does.
const childEnv = "GHR_MOTOPROC_ORPHAN_CHILD"

// TestEmulatorDiesWithItsParent: an emulator whose starter died without clean-up does not
// outlive it (orphans held ports, memory and the E2E lock of a shared machine).
func TestEmulatorDiesWithItsParent(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		p, err := Start(context.Background(), io.Discard)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println(p.URL)
		os.Exit(0) // no Stop
	}
	slow.Skip(t, slow.Emulator)
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmulatorDiesWithItsParent$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url, _ := bufio.NewReader(out).ReadString('\n')
	url = strings.TrimSpace(url)
	_ = cmd.Wait()
	if !strings.HasPrefix(url, "http://") {
		t.Fatalf("child said %q", url)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/data.json")
		if err != nil {
			return // gone with its parent
		}
		resp.Body.Close()
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("moto_server at %s still answers 10 s after its parent died", url)
}
