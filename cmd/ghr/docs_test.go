package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGettingStartedCommands: every `ghr` command docs/getting-started.md shows is a command
// this binary has, with flags it accepts. Each runs with -h appended, which the flag parser
// reaches only after accepting every flag before it, so nothing is contacted. (What the
// commands do is tested by their own tests: lambdas fetch against a release server, app
// manifest/convert against the simulator and the emulator.)
func TestGettingStartedCommands(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "docs", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	inCode := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		line, _, _ = strings.Cut(line, "#") // shell comments
		if fields := strings.Fields(line); inCode && len(fields) > 1 && fields[0] == "ghr" {
			cmds = append(cmds, fields[1:])
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("found only %d ghr commands in getting-started.md", len(cmds))
	}
	for _, args := range cmds {
		var out strings.Builder
		if err := run(context.Background(), append(args, "-h"), &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage") {
			t.Errorf("ghr %s (from getting-started.md): %v", strings.Join(args, " "), err)
		}
	}
}
