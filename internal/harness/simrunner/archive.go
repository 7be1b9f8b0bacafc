// Package simrunner is the test harness's GitHub Actions runner: a small Go program laid out
// in a tarball as actions/runner's release (config.sh, run.sh, svc.sh, bin/) that speaks to
// the GitHub simulator's runner service (ghsim.RunnerService) instead of GitHub. Sandbox hosts
// download it from S3 (where the syncer put it after reading the simulator's releases) and
// start-runner.sh runs it exactly as it runs the real runner. Never part of a deployment.
package simrunner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"time"
)

// archiveTime is every entry's timestamp, so an archive's checksum depends only on its content.
var archiveTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Archive lays listener (a Runner.Listener binary built from ./cmd/runner-listener for the
// archive's architecture) out as actions-runner-linux-<arch>-<version>.tar.gz is laid out.
func Archive(listener []byte, version string) ([]byte, error) {
	files := []struct {
		name string
		mode int64
		body []byte
	}{
		{"config.sh", 0o755, []byte(configSh)},
		{"run.sh", 0o755, []byte(runSh)},
		{"bin/Runner.Listener", 0o755, listener},
		{"bin/svc.sh.template", 0o644, []byte(svcTemplate)},
		{"bin/installdependencies.sh", 0o755, []byte(installDeps)},
		{"bin/runner.version", 0o644, []byte(version + "\n")},
	}
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	gz.ModTime = archiveTime
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "./bin/", Mode: 0o755, ModTime: archiveTime, Typeflag: tar.TypeDir}); err != nil {
		return nil, err
	}
	for _, f := range files {
		h := &tar.Header{Name: "./" + f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: archiveTime, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("simrunner archive: %w", err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("simrunner archive: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
