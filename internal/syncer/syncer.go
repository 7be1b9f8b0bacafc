package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
)

// assetTimeout bounds one archive's transfer: ~200 MB at a poor 1 MB/s still fits, and it
// stays under Lambda's 15-minute cap so the error is ours, not a killed invocation.
const assetTimeout = 10 * time.Minute

// ErrChecksum is a downloaded archive whose SHA-256 or size is not the published one.
var ErrChecksum = errors.New("checksum mismatch")

// Source is where releases come from (GitHub).
type Source interface {
	Release(ctx context.Context, version string) (*Release, error)
	Open(ctx context.Context, a Asset) (io.ReadCloser, error)
}

var _ Source = (*GitHub)(nil)

// Store is where archives go (the dist bucket).
type Store interface {
	Current(ctx context.Context, key string) (Object, bool, error)
	Put(ctx context.Context, key, contentType string, meta map[string]string, body io.Reader, verify func(n int64) error) (int64, error)
}

// Syncer copies runner archives from a release into the store.
type Syncer struct {
	Source  Source
	Store   Store
	Version string   // "latest" or x.y.z
	Targets []string // linux-x64, ...
	Log     *slog.Logger
}

// Actions reported per target.
const (
	ActionCurrent  = "current"  // the store had this version: nothing downloaded
	ActionUploaded = "uploaded" // downloaded, verified and stored
	ActionFailed   = "failed"   // the previous object, if any, is untouched
)

// Result is what one sync did; the Lambda returns it.
type Result struct {
	Version string         `json:"version"`
	Targets []TargetResult `json:"targets"`
}

// TargetResult is one target's outcome.
type TargetResult struct {
	Target string `json:"target"`
	Key    string `json:"key"`
	Action string `json:"action"`
	Bytes  int64  `json:"bytes,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Sync brings every target up to the release. Targets fail independently; the error joins
// every failure.
func (s *Syncer) Sync(ctx context.Context) (Result, error) {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	rel, err := s.Source.Release(ctx, s.Version)
	if err != nil {
		return Result{}, err
	}
	res := Result{Version: rel.Version}
	current := map[string]Object{}
	headErrs := map[string]error{}
	for _, t := range s.Targets {
		obj, ok, err := s.Store.Current(ctx, Key(t))
		switch {
		case err != nil:
			headErrs[t] = err
		case ok:
			current[Key(t)] = obj
		}
	}
	var errs []error
	for _, step := range Plan(rel, s.Targets, current) {
		tr := TargetResult{Target: step.Target, Key: step.Key, SHA256: step.SHA256}
		err := step.Err
		if err == nil {
			err = headErrs[step.Target]
		}
		switch {
		case err != nil:
		case !step.Upload:
			tr.Action = ActionCurrent
		default:
			tr.Bytes, tr.SHA256, err = s.transfer(ctx, rel, step)
			tr.Action = ActionUploaded
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", step.Target, err)
			tr.Action, tr.Error = ActionFailed, err.Error()
			errs = append(errs, err)
			s.Log.Error("runner archive not synced", "target", step.Target, "key", step.Key, "version", rel.Version,
				logging.KeyDecision, ActionFailed, logging.KeyError, err.Error())
		} else {
			s.Log.Info("runner archive", "target", step.Target, "key", step.Key, "version", rel.Version,
				logging.KeyDecision, tr.Action, "bytes", tr.Bytes, "sha256", tr.SHA256)
		}
		res.Targets = append(res.Targets, tr)
	}
	return res, errors.Join(errs...)
}

// transfer streams one asset into the store, hashing it on the way; the store completes the
// object only if verify accepts the hash and size.
func (s *Syncer) transfer(ctx context.Context, rel *Release, step Step) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, assetTimeout)
	defer cancel()
	body, err := s.Source.Open(ctx, step.Asset)
	if err != nil {
		return 0, "", err
	}
	defer body.Close()
	h := sha256.New()
	var sum string
	verify := func(n int64) error {
		sum = hex.EncodeToString(h.Sum(nil))
		if step.Asset.Size > 0 && n != step.Asset.Size {
			return fmt.Errorf("%w: %s: got %d bytes, the release lists %d", ErrChecksum, step.Asset.Name, n, step.Asset.Size)
		}
		if step.SHA256 != "" && sum != step.SHA256 {
			return fmt.Errorf("%w: %s: SHA-256 %s, published %s", ErrChecksum, step.Asset.Name, sum, step.SHA256)
		}
		return nil
	}
	meta := map[string]string{MetaVersion: rel.Version, MetaAsset: step.Asset.Name}
	if step.SHA256 != "" {
		meta[MetaSHA256] = step.SHA256 // verified before the object becomes visible
	}
	n, err := s.Store.Put(ctx, step.Key, contentType(step.Target), meta, io.TeeReader(body, h), verify)
	if err != nil {
		return n, "", err
	}
	return n, sum, nil
}

func contentType(target string) string {
	if ext(target) == ".zip" {
		return "application/zip"
	}
	return "application/gzip"
}
