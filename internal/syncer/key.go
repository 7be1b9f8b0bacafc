// Package syncer keeps the runner archives in the S3 dist bucket in step with the GitHub
// release of actions/runner (latest, or a pinned version), so instances get the runner from
// inside AWS instead of from GitHub at every boot.
//
// Bucket layout (stable; the bootstrap script terraform/modules/runners/templates/start-runner.sh
// builds the same names from uname -m):
//
//	s3://<DIST_BUCKET>/actions-runner-<os>-<arch>.tar.gz   linux-x64, linux-arm64, osx-...
//	s3://<DIST_BUCKET>/actions-runner-win-<arch>.zip       Windows
//
// Each object carries user metadata runner-version (x.y.z), sha256 (hex of the object) and
// source-asset (the release asset's name). An object whose runner-version is the release's
// (and whose sha256 matches the published one, if any) is left alone: nothing is downloaded.
//
// Uploads stream: the asset's HTTP body is hashed as it is read and cut into parts of a
// multipart upload, with a fixed number of part buffers, so memory stays flat whatever the
// asset's size. The SHA-256 (the asset's digest, or the hash in the release notes) and the
// size are checked before CompleteMultipartUpload; a mismatch or any other failure aborts the
// upload, so the previous object stays in place. The multipart code is our own, small
// uploader: the SDK's feature/s3/manager is deprecated and its successor is pre-1.0.
package syncer

import "strings"

// Key is the dist-bucket key of a target's runner archive.
func Key(target string) string {
	if strings.HasPrefix(target, "win-") {
		return "actions-runner-" + target + ".zip"
	}
	return "actions-runner-" + target + ".tar.gz"
}

// Object metadata keys (S3 user metadata, x-amz-meta-*).
const (
	MetaVersion = "runner-version"
	MetaSHA256  = "sha256"
	MetaAsset   = "source-asset"
)
