package syncer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newSyncer(g *fakeGitHub, store Store, tok TokenSource, version string, targets ...string) *Syncer {
	return &Syncer{Source: g.client(tok), Store: store, Version: version, Targets: targets, Log: quietLog()}
}

func TestSyncUploadsThenDoesNothing(t *testing.T) {
	g := newFakeGitHub(t)
	g.token = "ghs_installation"
	rel := runnerRelease("2.321.0", 3*testPart+11, 1, true, "linux-x64", "linux-arm64")
	g.publish(rel, true)
	s3 := newMemS3()
	store := &Bucket{API: s3, Name: "dist", Uploader: &Uploader{API: s3, PartSize: testPart}}
	tok := func(context.Context) (string, error) { return "ghs_installation", nil }
	s := newSyncer(g, store, tok, "latest", "linux-x64", "linux-arm64")

	res, err := s.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range res.Targets {
		a := rel.assets[i]
		o, ok := s3.object(Key(tr.Target))
		if tr.Action != ActionUploaded || !ok || o.sha256 != a.sum() || tr.SHA256 != a.sum() || tr.Bytes != a.size {
			t.Errorf("%+v: stored ok=%t sha=%s", tr, ok, o.sha256)
		}
		if o.meta[MetaVersion] != "2.321.0" || o.meta[MetaSHA256] != a.sum() || o.meta[MetaAsset] != a.name {
			t.Errorf("metadata %v", o.meta)
		}
	}
	if g.downloads.Load() != 2 {
		t.Errorf("%d downloads, want 2", g.downloads.Load())
	}

	res, err = s.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Targets {
		if tr.Action != ActionCurrent {
			t.Errorf("second sync: %+v, want current", tr)
		}
	}
	if g.downloads.Load() != 2 {
		t.Errorf("second sync downloaded: %d downloads in all", g.downloads.Load())
	}
}

func TestSyncFailureKeepsPreviousObject(t *testing.T) {
	cases := []struct {
		name string
		rel  func() release
		want error
		msg  string
	}{
		{"checksum mismatch", func() release {
			r := runnerRelease("2.322.0", 2*testPart, 7, false, "linux-x64")
			r.body = strings.Replace(r.body, "<!-- BEGIN SHA linux-x64 -->", "<!-- BEGIN SHA linux-x64 -->"+strings.Repeat("0", 64)+"<!-- END SHA linux-x64 --><!-- x -->", 1)
			return r
		}, ErrChecksum, "SHA-256"},
		{"size differs from the listing", func() release {
			r := runnerRelease("2.322.0", 2*testPart, 7, false, "linux-x64")
			r.body, r.assets[0].listed = "", 2*testPart+1
			return r
		}, ErrChecksum, "the release lists"},
		{"connection dropped", func() release {
			r := runnerRelease("2.322.0", 2*testPart, 7, false, "linux-x64")
			r.body, r.assets[0].truncated = "", true
			return r
		}, nil, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGitHub(t)
			g.publish(runnerRelease("2.321.0", testPart+3, 1, false, "linux-x64"), true)
			s3 := newMemS3()
			store := &Bucket{API: s3, Name: "dist", Uploader: &Uploader{API: s3, PartSize: testPart}}
			s := newSyncer(g, store, nil, "latest", "linux-x64")
			if _, err := s.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			before, _ := s3.object(Key("linux-x64"))

			g.publish(tc.rel(), true)
			res, err := s.Sync(context.Background())
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v / %q", err, tc.want, tc.msg)
			}
			if res.Targets[0].Action != ActionFailed || res.Targets[0].Error == "" {
				t.Errorf("result %+v", res.Targets[0])
			}
			after, _ := s3.object(Key("linux-x64"))
			if !bytes.Equal(after.data, before.data) || after.meta[MetaVersion] != "2.321.0" {
				t.Errorf("previous object replaced: version %s", after.meta[MetaVersion])
			}
			if s3.openUploads() != 0 {
				t.Error("multipart upload left open")
			}
		})
	}
}

func TestSyncTargetsFailIndependently(t *testing.T) {
	g := newFakeGitHub(t)
	g.publish(runnerRelease("2.321.0", 1000, 1, true, "linux-x64"), false)
	g.publish(runnerRelease("2.400.0", 1000, 2, true, "linux-x64"), true)
	s3 := newMemS3()
	s := newSyncer(g, &Bucket{API: s3, Name: "dist"}, nil, "2.321.0", "linux-x64", "linux-arm64")
	res, err := s.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "linux-arm64: release 2.321.0 has no asset for linux-arm64") {
		t.Fatalf("error %v", err)
	}
	if res.Version != "2.321.0" || res.Targets[0].Action != ActionUploaded || res.Targets[1].Action != ActionFailed {
		t.Errorf("result %+v", res)
	}
	if o, _ := s3.object(Key("linux-x64")); o.meta[MetaVersion] != "2.321.0" {
		t.Errorf("pinned version not stored: %v", o.meta)
	}

	s.Version = "9.9.9"
	if _, err := s.Sync(context.Background()); !IsNotFound(err) {
		t.Errorf("unknown pinned version: %v, want a 404", err)
	}
}

func TestGitHubErrors(t *testing.T) {
	g := newFakeGitHub(t)
	g.token = "right"
	_, err := g.client(nil).Release(context.Background(), "latest")
	var h *HTTPError
	if !errors.As(err, &h) || h.Status != 401 || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("anonymous call to a token-only API: %v", err)
	}
	failing := func(context.Context) (string, error) { return "", errors.New("no installation") }
	if _, err := g.client(failing).Release(context.Background(), "latest"); err == nil || !strings.Contains(err.Error(), "no installation") {
		t.Errorf("token source error: %v", err)
	}
}
