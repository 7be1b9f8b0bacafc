package release

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FunctionNames are the functions every release carries and the module deploys.
var FunctionNames = []string{"cleanup", "pool", "redeliver", "scale-down", "scale-up", "spot-interruption", "syncer", "webhook"}

// Download limits.
const (
	DefaultBaseURL = "https://github.com"
	maxAssetBytes  = 256 << 20        // a function zip is ~10 MB; anything this large is not ours
	maxSumsBytes   = 64 << 10         // one line per asset
	fetchTimeout   = 10 * time.Minute // all assets over a slow link
)

// FetchOptions say which release to download and where.
type FetchOptions struct {
	BaseURL string // default DefaultBaseURL; assets are at <base>/<repo>/releases/download/v<version>/<name>
	Repo    string // default Repo
	Version string // x.y.z
	GOARCH  string // arm64 or amd64
	Out     string // the zips land here as <function>.zip, the names the module's lambda_dist_dir expects
	Client  *http.Client
}

// Fetch downloads SHA256SUMS and every function's zip for one architecture, verifies each
// against SHA256SUMS and writes it as <Out>/<function>.zip. Nothing unverified is written.
func Fetch(ctx context.Context, o FetchOptions) ([]string, error) {
	if err := CheckVersion(o.Version); err != nil {
		return nil, err
	}
	if o.GOARCH != "arm64" && o.GOARCH != "amd64" {
		return nil, fmt.Errorf("architecture %q: want arm64 or amd64", o.GOARCH)
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Repo == "" {
		o.Repo = Repo
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: fetchTimeout}
	}
	base := fmt.Sprintf("%s/%s/releases/download/v%s/", strings.TrimSuffix(o.BaseURL, "/"), o.Repo, o.Version)
	sumsText, err := get(ctx, o.Client, base+SumsFile, maxSumsBytes)
	if err != nil {
		return nil, err
	}
	sums, err := ParseSums(bytes.NewReader(sumsText))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, fn := range FunctionNames {
		asset := FunctionAsset(fn, o.GOARCH)
		if _, ok := sums[asset]; !ok {
			return written, fmt.Errorf("release v%s lists no %s in %s", o.Version, asset, SumsFile)
		}
		b, err := get(ctx, o.Client, base+asset, maxAssetBytes)
		if err != nil {
			return written, err
		}
		if err := Verify(sums, asset, b); err != nil {
			return written, err
		}
		dst := filepath.Join(o.Out, fn+".zip")
		if err := os.WriteFile(dst+".tmp", b, 0o644); err != nil {
			return written, err
		}
		if err := os.Rename(dst+".tmp", dst); err != nil {
			return written, err
		}
		written = append(written, dst)
	}
	return written, nil
}

func get(ctx context.Context, c *http.Client, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("download %s: larger than %d bytes", url, limit)
	}
	return b, nil
}
