package ghsim

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RunnerRepo is the repository whose releases the runner-binaries syncer reads.
const RunnerRepo = "actions/runner"

// DefaultRunnerVersion is the version DefaultRunnerRelease serves.
const DefaultRunnerVersion = "2.330.0"

// archiveTime is the fixed timestamp inside synthetic archives, so their checksums are
// stable across runs.
var archiveTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Release is a GitHub release with its assets.
type Release struct {
	Repo        string // "owner/name"; default RunnerRepo
	Tag         string // e.g. "v2.330.0"
	Name        string // default the tag
	Prerelease  bool
	Draft       bool
	Body        string // default: release notes with each asset's SHA-256, as actions/runner writes them
	PublishedAt time.Time
	Assets      []Asset

	id int64
}

// Asset is one release file.
type Asset struct {
	Name        string
	ContentType string // default from the name
	Content     []byte

	id int64
}

// DefaultRunnerRelease is a synthetic actions/runner release with linux-x64, linux-arm64
// and win-x64 archives.
func DefaultRunnerRelease() Release {
	return RunnerRelease(DefaultRunnerVersion, "linux-x64", "linux-arm64", "win-x64")
}

// RunnerRelease is a synthetic actions/runner release of version with one archive per
// target ("linux-x64", "win-x64"...), named as actions/runner names them.
func RunnerRelease(version string, targets ...string) Release {
	rel := Release{Repo: RunnerRepo, Tag: "v" + version, PublishedAt: archiveTime}
	for _, t := range targets {
		rel.Assets = append(rel.Assets, Asset{Name: RunnerAssetName(version, t), Content: SyntheticRunnerArchive(version, t)})
	}
	return rel
}

// RunnerAssetName is actions/runner's archive name: actions-runner-<target>-<version>.tar.gz
// (.zip for Windows).
func RunnerAssetName(version, target string) string {
	if strings.HasPrefix(target, "win-") {
		return "actions-runner-" + target + "-" + version + ".zip"
	}
	return "actions-runner-" + target + "-" + version + ".tar.gz"
}

// SyntheticRunnerArchive is a small archive laid out like the runner's (config.sh, run.sh,
// bin/Runner.Listener) whose scripts only print what they are.
func SyntheticRunnerArchive(version, target string) []byte {
	files := []struct{ name, body string }{
		{"config.sh", "#!/bin/sh\necho \"ghsim synthetic actions runner " + version + " (" + target + "): config.sh $*\"\n"},
		{"run.sh", "#!/bin/sh\necho \"ghsim synthetic actions runner " + version + " (" + target + "): run.sh $*\"\n"},
		{"bin/Runner.Listener", "#!/bin/sh\necho \"ghsim synthetic Runner.Listener " + version + "\"\n"},
	}
	var buf bytes.Buffer
	if strings.HasPrefix(target, "win-") {
		zw := zip.NewWriter(&buf)
		for _, f := range files {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: archiveTime})
			if err == nil {
				_, _ = w.Write([]byte(f.body))
			}
		}
		_ = zw.Close()
		return buf.Bytes()
	}
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	gz.ModTime = archiveTime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		_ = tw.WriteHeader(&tar.Header{Name: "./" + f.name, Mode: 0o755, Size: int64(len(f.body)), ModTime: archiveTime, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(f.body))
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// releaseBody writes the checksum lines the actions/runner release notes carry, which
// tools parse to verify downloads.
func releaseBody(rel Release) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## What's Changed\nSynthetic release %s served by the ghr GitHub simulator.\n\n", rel.Tag)
	b.WriteString("The SHA-256 checksums for the packages included in this build are shown below:\n\n")
	version := strings.TrimPrefix(rel.Tag, "v")
	for _, a := range rel.Assets {
		target := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(a.Name, "actions-runner-"), ".tar.gz"), ".zip")
		target = strings.TrimSuffix(target, "-"+version)
		fmt.Fprintf(&b, "- %s <!-- BEGIN SHA %s -->%s<!-- END SHA %s -->\n", a.Name, target, sha256Hex(a.Content), target)
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// indexReleases fills defaults and ids.
func (s *Sim) indexReleases() error {
	seen := map[string]bool{}
	for i := range s.releases {
		rel := &s.releases[i]
		if rel.Repo == "" {
			rel.Repo = RunnerRepo
		}
		if rel.Tag == "" {
			return fmt.Errorf("ghsim: release %d of %s has no tag", i, rel.Repo)
		}
		if seen[rel.Repo+"@"+rel.Tag] {
			return fmt.Errorf("ghsim: release %s of %s is listed twice", rel.Tag, rel.Repo)
		}
		seen[rel.Repo+"@"+rel.Tag] = true
		if rel.Name == "" {
			rel.Name = rel.Tag
		}
		if rel.PublishedAt.IsZero() {
			rel.PublishedAt = archiveTime
		}
		s.nextID++
		rel.id = s.nextID
		for j := range rel.Assets {
			a := &rel.Assets[j]
			if a.ContentType == "" {
				a.ContentType = "application/octet-stream"
				if strings.HasSuffix(a.Name, ".tar.gz") {
					a.ContentType = "application/gzip"
				} else if strings.HasSuffix(a.Name, ".zip") {
					a.ContentType = "application/zip"
				}
			}
			s.nextID++
			a.id = s.nextID
		}
		if rel.Body == "" {
			rel.Body = releaseBody(*rel)
		}
	}
	return nil
}

func (s *Sim) downloadURL(rel *Release, a *Asset) string {
	base := s.apiURL()
	if base == "https://api.github.com" {
		base = webURL
	}
	return base + "/" + rel.Repo + "/releases/download/" + rel.Tag + "/" + a.Name
}

func (s *Sim) assetJSON(rel *Release, a *Asset) map[string]any {
	t := rel.PublishedAt.Format(timeFormat)
	return map[string]any{
		"id": a.id, "node_id": nodeID("RA_kwDO", a.id), "name": a.Name, "label": "", "content_type": a.ContentType,
		"state": "uploaded", "size": len(a.Content), "digest": "sha256:" + sha256Hex(a.Content), "download_count": 0,
		"url":                  s.apiURL() + "/repos/" + rel.Repo + "/releases/assets/" + strconv.FormatInt(a.id, 10),
		"browser_download_url": s.downloadURL(rel, a), "uploader": s.userJSON(sender), "created_at": t, "updated_at": t,
	}
}

func (s *Sim) releaseJSON(rel *Release) map[string]any {
	base := s.apiURL() + "/repos/" + rel.Repo
	id := strconv.FormatInt(rel.id, 10)
	assets := make([]map[string]any, len(rel.Assets))
	for i := range rel.Assets {
		assets[i] = s.assetJSON(rel, &rel.Assets[i])
	}
	t := rel.PublishedAt.Format(timeFormat)
	return map[string]any{
		"id": rel.id, "node_id": nodeID("RE_kwDO", rel.id), "tag_name": rel.Tag, "target_commitish": "main",
		"name": rel.Name, "body": rel.Body, "draft": rel.Draft, "prerelease": rel.Prerelease,
		"created_at": t, "published_at": t, "author": s.userJSON(sender), "assets": assets,
		"url": base + "/releases/" + id, "html_url": webURL + "/" + rel.Repo + "/releases/tag/" + rel.Tag,
		"assets_url":  base + "/releases/" + id + "/assets",
		"upload_url":  strings.Replace(base, "api.", "uploads.", 1) + "/releases/" + id + "/assets{?name,label}",
		"tarball_url": base + "/tarball/" + rel.Tag, "zipball_url": base + "/zipball/" + rel.Tag,
	}
}

func repoPath(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("repo") }

// GET /repos/{owner}/{repo}/releases/latest: the newest published, non-prerelease release.
func (s *Sim) latestRelease(w http.ResponseWriter, r *http.Request, _ identity) {
	var best *Release
	for i := range s.releases {
		rel := &s.releases[i]
		if strings.EqualFold(rel.Repo, repoPath(r)) && !rel.Prerelease && !rel.Draft &&
			(best == nil || rel.PublishedAt.After(best.PublishedAt)) {
			best = rel
		}
	}
	if best == nil {
		writeError(w, http.StatusNotFound, msgNotFound, docReleases)
		return
	}
	writeJSON(w, http.StatusOK, s.releaseJSON(best))
}

// GET /repos/{owner}/{repo}/releases/tags/{tag}
func (s *Sim) releaseByTag(w http.ResponseWriter, r *http.Request, _ identity) {
	for i := range s.releases {
		rel := &s.releases[i]
		if strings.EqualFold(rel.Repo, repoPath(r)) && rel.Tag == r.PathValue("tag") {
			writeJSON(w, http.StatusOK, s.releaseJSON(rel))
			return
		}
	}
	writeError(w, http.StatusNotFound, msgNotFound, docReleases)
}

// GET /repos/{owner}/{repo}/releases/assets/{id}: JSON, or with Accept:
// application/octet-stream a 302 to the download, as GitHub answers.
func (s *Sim) getAsset(w http.ResponseWriter, r *http.Request, _ identity) {
	id, ok := pathID(w, r, docReleases)
	if !ok {
		return
	}
	for i := range s.releases {
		rel := &s.releases[i]
		for j := range rel.Assets {
			a := &rel.Assets[j]
			if a.id != id || !strings.EqualFold(rel.Repo, repoPath(r)) {
				continue
			}
			if strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
				http.Redirect(w, r, s.downloadURL(rel, a), http.StatusFound)
				return
			}
			writeJSON(w, http.StatusOK, s.assetJSON(rel, a))
			return
		}
	}
	writeError(w, http.StatusNotFound, msgNotFound, docReleases)
}

// GET /{owner}/{repo}/releases/download/{tag}/{name}: the file itself (github.com's role).
func (s *Sim) download(w http.ResponseWriter, r *http.Request) {
	s.stats.add(func(st *Stats) map[string]int { return st.Requests }, "GET /{owner}/{repo}/releases/download/{tag}/{name}")
	for i := range s.releases {
		rel := &s.releases[i]
		if !strings.EqualFold(rel.Repo, repoPath(r)) || rel.Tag != r.PathValue("tag") {
			continue
		}
		for _, a := range rel.Assets {
			if a.Name == r.PathValue("name") {
				w.Header().Set("Content-Type", a.ContentType)
				w.Header().Set("Content-Length", strconv.Itoa(len(a.Content)))
				_, _ = w.Write(a.Content)
				return
			}
		}
	}
	http.NotFound(w, r)
}

// DirRelease is release tag of repo with every file of dir as an asset (a `make release`
// output folder, for one).
func DirRelease(repo, tag, dir string) (Release, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Release{}, err
	}
	rel := Release{Repo: repo, Tag: tag}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return Release{}, err
		}
		rel.Assets = append(rel.Assets, Asset{Name: e.Name(), Content: b})
	}
	return rel, nil
}
