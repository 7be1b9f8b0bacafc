package syncer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"runtime"
	"strings"
	"testing"
)

const testPart = 1 << 20 // small parts keep unit tests light; S3's 5 MiB minimum is moto's to check

func TestUploadSizes(t *testing.T) {
	for _, size := range []int64{0, 1, testPart - 1, testPart, testPart + 1, 5*testPart + 17} {
		s3 := newMemS3()
		u := &Uploader{API: s3, PartSize: testPart, Concurrency: 2}
		a := asset{size: size, seed: 3}
		n, err := u.Upload(context.Background(), "b", "k", "application/gzip", map[string]string{"m": "v"}, a.reader(), func(int64) error { return nil })
		if err != nil || n != size {
			t.Fatalf("size %d: n=%d err=%v", size, n, err)
		}
		o, ok := s3.object("k")
		if !ok || o.size != size || o.sha256 != a.sum() || o.meta["m"] != "v" {
			t.Errorf("size %d: stored %d bytes sha %s ok=%t", size, o.size, o.sha256, ok)
		}
	}
}

func TestUploadFailureKeepsPreviousObject(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*memS3)
		body   func(a asset) io.Reader
		verify func(int64) error
		want   string
	}{
		{"verify rejects", nil, nil, func(int64) error { return ErrChecksum }, "checksum mismatch"},
		{"part upload fails", func(m *memS3) { m.failPart = 2 }, nil, nil, "upload part 2 of k: InternalError"},
		{"download breaks", nil, func(a asset) io.Reader { return &errReader{r: a.reader(), n: 2*testPart + 5} }, nil, "read k: connection reset"},
		// net/http reports a dropped connection as io.ErrUnexpectedEOF: not a clean end.
		{"download cut short", nil, func(a asset) io.Reader {
			return &errReader{r: a.reader(), n: testPart / 2, err: io.ErrUnexpectedEOF}
		}, nil, "read k: unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s3 := newMemS3()
			old := []byte("previous runner")
			s3.objects["k"] = memObject{data: old, size: int64(len(old)), meta: map[string]string{MetaVersion: "2.320.0"}}
			if tc.setup != nil {
				tc.setup(s3)
			}
			a := asset{size: 4 * testPart, seed: 9}
			var body io.Reader = a.reader()
			if tc.body != nil {
				body = tc.body(a)
			}
			verify := tc.verify
			if verify == nil {
				verify = func(int64) error { return nil }
			}
			u := &Uploader{API: s3, PartSize: testPart}
			_, err := u.Upload(context.Background(), "b", "k", "application/gzip", nil, body, verify)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if o, _ := s3.object("k"); !bytes.Equal(o.data, old) || o.meta[MetaVersion] != "2.320.0" {
				t.Errorf("previous object replaced: %d bytes, meta %v", o.size, o.meta)
			}
			if s3.aborted != 1 || s3.openUploads() != 0 {
				t.Errorf("aborted %d, open uploads %d: want the upload aborted", s3.aborted, s3.openUploads())
			}
		})
	}
}

// TestUploadMemoryFlat streams 48 MiB through the uploader and checks that what it allocates
// is bounded by its part buffers, not by the stream.
func TestUploadMemoryFlat(t *testing.T) {
	const size = 48 << 20
	s3 := newMemS3()
	s3.discard = true
	u := &Uploader{API: s3, PartSize: 4 << 20, Concurrency: 2}
	a := asset{size: size, seed: 1}
	h := sha256.New()
	alloc := allocatedGC(func() {
		if _, err := u.Upload(context.Background(), "b", "k", "", nil, io.TeeReader(a.reader(), h), func(int64) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	limit := uint64(3*(4<<20) + 2<<20) // three part buffers plus slack
	t.Logf("streamed %d MiB, allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
	if alloc > limit {
		t.Errorf("allocated %d bytes for a %d-byte stream, want at most %d", alloc, size, limit)
	}
	if o, _ := s3.object("k"); o.size != size {
		t.Errorf("stored %d bytes", o.size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.sum() {
		t.Error("hash of the stream differs")
	}
}

func allocatedGC(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
