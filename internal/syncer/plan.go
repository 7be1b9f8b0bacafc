package syncer

import (
	"fmt"
	"regexp"
	"strings"
)

// Object is what the bucket holds under a key.
type Object struct {
	Version string // runner-version metadata
	SHA256  string // sha256 metadata
}

// Step is the decision for one target.
type Step struct {
	Target string
	Key    string
	Asset  Asset
	SHA256 string // published hash, lower-case hex; "" when the release publishes none
	Upload bool   // false: the bucket already has this version
	Err    error  // the target cannot be synced from this release
}

// Plan decides, per target, whether the bucket needs the release's asset. current holds the
// bucket's objects by key (absent keys are missing objects). Pure: no I/O.
func Plan(rel *Release, targets []string, current map[string]Object) []Step {
	steps := make([]Step, 0, len(targets))
	for _, t := range targets {
		s := Step{Target: t, Key: Key(t)}
		a, ok := findAsset(rel, t)
		if !ok {
			s.Err = fmt.Errorf("release %s has no asset for %s", rel.Version, t)
			steps = append(steps, s)
			continue
		}
		s.Asset = a
		s.SHA256, s.Err = publishedSHA256(rel, a, t)
		if s.Err == nil {
			obj, have := current[s.Key]
			upToDate := have && obj.Version == rel.Version && (s.SHA256 == "" || strings.EqualFold(obj.SHA256, s.SHA256))
			s.Upload = !upToDate
		}
		steps = append(steps, s)
	}
	return steps
}

// findAsset picks actions-runner-<target>-<version>.<ext> from the release.
func findAsset(rel *Release, target string) (Asset, bool) {
	want := strings.TrimSuffix(Key(target), ext(target)) + "-" + rel.Version + ext(target)
	for _, a := range rel.Assets {
		if a.Name == want {
			return a, true
		}
	}
	return Asset{}, false
}

func ext(target string) string {
	if strings.HasPrefix(target, "win-") {
		return ".zip"
	}
	return ".tar.gz"
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// publishedSHA256 returns the asset's hash from GitHub's asset digest or, for releases before
// digests existed, from the notes, where actions/runner writes
// <!-- BEGIN SHA linux-x64 -->HEX<!-- END SHA linux-x64 -->. Two different published
// hashes are an error: neither can be trusted.
func publishedSHA256(rel *Release, a Asset, target string) (string, error) {
	var fromDigest, fromNotes string
	if d, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
		fromDigest = strings.ToLower(d)
		if !hexSHA256.MatchString(fromDigest) {
			return "", fmt.Errorf("asset %s: malformed digest %q", a.Name, a.Digest)
		}
	}
	begin, end := "<!-- BEGIN SHA "+target+" -->", "<!-- END SHA "+target+" -->"
	if _, rest, ok := strings.Cut(rel.Body, begin); ok {
		if h, _, ok := strings.Cut(rest, end); ok {
			fromNotes = strings.ToLower(strings.TrimSpace(h))
			if !hexSHA256.MatchString(fromNotes) {
				return "", fmt.Errorf("release %s: malformed SHA-256 for %s in the notes", rel.Version, target)
			}
		}
	}
	if fromDigest != "" && fromNotes != "" && fromDigest != fromNotes {
		return "", fmt.Errorf("release %s: asset digest and release notes disagree on the SHA-256 of %s", rel.Version, a.Name)
	}
	if fromDigest != "" {
		return fromDigest, nil
	}
	return fromNotes, nil
}
