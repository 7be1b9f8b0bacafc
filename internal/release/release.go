// Package release builds and checks ghr's release artifacts: every Lambda function for
// both Lambda architectures, the ghr CLI, SHA256SUMS and (when the tool is present) an SBOM.
// The same commit always gives the same bytes: builds are -trimpath with no build id and
// zips have fixed timestamps (internal/harness/distbuild).
package release

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
)

// SumsFile lists every other asset's SHA-256, in `sha256sum` format.
const SumsFile = "SHA256SUMS"

// Repo is where releases are published; the tag of version x.y.z is vx.y.z.
const Repo = "ghr-dev/ghr"

// Arches are the Go architectures functions are built for (Lambda's arm64 and x86_64).
var Arches = []string{"arm64", "amd64"}

// CLITargets are the os/arch pairs the ghr CLI is built for.
var CLITargets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}

// semverRule is SemVer 2.0's core with an optional pre-release, without the "v".
var semverRule = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// CheckVersion accepts x.y.z (and x.y.z-pre), the form `make release VERSION=` takes.
func CheckVersion(v string) error {
	if !semverRule.MatchString(v) {
		return fmt.Errorf("version %q: want a semantic version x.y.z (e.g. 1.4.0 or 1.4.0-rc.1), without a leading v", v)
	}
	return nil
}

// FunctionAsset names a function's zip for a Go architecture, e.g. webhook_linux_arm64.zip.
func FunctionAsset(function, goarch string) string {
	return fmt.Sprintf("%s_linux_%s.zip", function, goarch)
}

// Options say what to build.
type Options struct {
	Root      string   // repository root
	Version   string   // x.y.z
	Out       string   // output directory (created; must be empty or absent)
	Functions []string // default: every directory under lambdas/
	NoCLI     bool     // skip the CLI binaries (tests)
	Arches    []string // default Arches
	SBOM      string   // path of cyclonedx-gomod; "" writes no SBOM
	Log       io.Writer
}

// Build writes the release into o.Out and returns the asset names.
func Build(ctx context.Context, o Options) ([]string, error) {
	if err := CheckVersion(o.Version); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(o.Out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: remove it to build release %s afresh", o.Out, o.Version)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	fns := o.Functions
	if fns == nil {
		var err error
		if fns, err = distbuild.Functions(o.Root); err != nil {
			return nil, err
		}
	}
	ldflags := "-s -w -buildid= -X github.com/ghr-dev/ghr/internal/version.Version=" + o.Version
	arches := o.Arches
	if arches == nil {
		arches = Arches
	}
	for _, arch := range arches {
		for _, fn := range fns {
			fmt.Fprintf(o.Log, "release: %s for linux/%s\n", fn, arch)
			if err := distbuild.BuildWith(ctx, distbuild.Spec{Root: o.Root, GOARCH: arch, Package: "./lambdas/" + fn, LDFlags: ldflags},
				filepath.Join(o.Out, FunctionAsset(fn, arch))); err != nil {
				return nil, err
			}
		}
	}
	if !o.NoCLI {
		for _, t := range CLITargets {
			goos, goarch, _ := strings.Cut(t, "/")
			fmt.Fprintf(o.Log, "release: ghr CLI for %s\n", t)
			if err := distbuild.Binary(ctx, distbuild.Spec{Root: o.Root, GOOS: goos, GOARCH: goarch, Package: "./cmd/ghr", LDFlags: ldflags},
				filepath.Join(o.Out, fmt.Sprintf("ghr_%s_%s", goos, goarch))); err != nil {
				return nil, err
			}
		}
	}
	if o.SBOM != "" {
		if err := sbom(ctx, o); err != nil {
			return nil, err
		}
	}
	return WriteSums(o.Out)
}

// sbom writes a CycloneDX SBOM of the module's dependencies, without a serial number or
// timestamp so it is as reproducible as the binaries.
func sbom(ctx context.Context, o Options) error {
	fmt.Fprintf(o.Log, "release: SBOM\n")
	cmd := exec.CommandContext(ctx, o.SBOM, "mod", "-json", "-licenses=false", "-test=false", "-noserial", "-notimestamp", "-output", filepath.Join(o.Out, "sbom.cdx.json"), o.Root)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sbom: %w\n%s", err, out)
	}
	return nil
}

// WriteSums writes SHA256SUMS for every file in dir (but itself) and returns their names.
func WriteSums(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	var b bytes.Buffer
	for _, e := range entries {
		if e.IsDir() || e.Name() == SumsFile {
			continue
		}
		sum, err := fileSum(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		names = append(names, e.Name())
		fmt.Fprintf(&b, "%s  %s\n", sum, e.Name())
	}
	return names, os.WriteFile(filepath.Join(dir, SumsFile), b.Bytes(), 0o644)
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ParseSums reads a SHA256SUMS file into name → lower-case hex digest.
func ParseSums(r io.Reader) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		// "<hex>  name" (text mode) or "<hex> *name" (binary mode), as sha256sum writes.
		sum, name, ok := strings.Cut(line, " ")
		if len(name) > 0 && (name[0] == ' ' || name[0] == '*') {
			name = name[1:]
		} else {
			ok = false
		}
		if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size || name == "" || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("%s line %d: want '<sha256>  <file name>'", SumsFile, n)
		}
		sums[name] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, errors.New(SumsFile + " is empty")
	}
	return sums, nil
}

// Verify checks content against name's digest in sums.
func Verify(sums map[string]string, name string, content []byte) error {
	want, ok := sums[name]
	if !ok {
		return fmt.Errorf("%s is not listed in %s", name, SumsFile)
	}
	got := sha256.Sum256(content)
	if hex.EncodeToString(got[:]) != want {
		return fmt.Errorf("%s: SHA-256 %x does not match %s (%s): refusing a corrupted or substituted file", name, got, SumsFile, want)
	}
	return nil
}
