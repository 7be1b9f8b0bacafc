package syncer

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// heapSampleEvery is how often the heap is sampled while a sync runs; parts take longer
// than this to fill, so a peak cannot slip between samples unseen for long.
const heapSampleEvery = 2 * time.Millisecond

// syncLarge syncs one asset of size bytes from the fake GitHub over HTTP into a discarding
// S3 with the production part size and concurrency. It returns the bytes allocated during
// the sync and the peak live heap above the starting point.
func syncLarge(tb testing.TB, size int64) (allocated, peak uint64) {
	g := newFakeGitHub(tb)
	g.publish(runnerRelease("2.321.0", size, 1, true, "linux-x64"), true)
	s3 := newMemS3()
	s3.discard = true
	s := newSyncer(g, &Bucket{API: s3, Name: "dist"}, nil, "latest", "linux-x64")

	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := heap()
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		max  uint64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(heapSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if h := heap(); h > max {
					max = h
				}
			}
		}
	}()
	allocated = allocatedBy(func() {
		res, err := s.Sync(context.Background())
		if err != nil || res.Targets[0].Bytes != size {
			tb.Fatalf("sync: %+v, %v", res, err)
		}
	})
	close(done)
	wg.Wait()
	if max > base {
		peak = max - base
	}
	return allocated, peak
}

func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// memoryBound is the most a sync may allocate whatever the asset's size: its part buffers
// plus 8 MiB for HTTP, TLS-free test transport and hashing state.
const memoryBound = (DefaultConcurrency+1)*DefaultPartSize + 8<<20

// TestSyncMemoryFlat: a 64 MiB asset through the whole path (HTTP download, hashing,
// multipart) allocates no more than the fixed bound, i.e. far less than its size.
func TestSyncMemoryFlat(t *testing.T) {
	const size = 64 << 20
	alloc, peak := syncLarge(t, size)
	t.Logf("64 MiB asset: allocated %.1f MiB, peak live heap +%.1f MiB", mib(alloc), mib(peak))
	if alloc > memoryBound {
		t.Errorf("allocated %.1f MiB for a %d MiB asset, want at most %.1f MiB", mib(alloc), size>>20, mib(memoryBound))
	}
}

// BenchmarkSync200MB streams a 200 MB asset (the size the issue names) and reports what was
// allocated (B/op with -benchmem) and the peak live heap above the start, in MiB.
func BenchmarkSync200MB(b *testing.B) {
	const size = 200 << 20
	b.SetBytes(size)
	var peakMax uint64
	for b.Loop() {
		alloc, peak := syncLarge(b, size)
		if alloc > memoryBound {
			b.Fatalf("allocated %.1f MiB, want at most %.1f MiB", mib(alloc), mib(memoryBound))
		}
		peakMax = max(peakMax, peak)
	}
	b.ReportMetric(mib(peakMax), "peak-heap-MiB")
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
