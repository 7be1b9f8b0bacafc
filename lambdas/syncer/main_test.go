package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/testutil/functest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/syncer"
)

// asFunction makes the test binary run main() when lambdahost starts it as the function.
const asFunction = "GHR_TEST_RUN_SYNCER_MAIN"

// invokeTimeout is the function timeout given to lambdahost: a 200 MB asset through moto
// takes tens of seconds on a shared 2-core machine.
const invokeTimeout = 5 * time.Minute

func TestMain(m *testing.M) { functest.Main(m, asFunction, main) }

// scheduledEvent is what EventBridge sends on a schedule.
const scheduledEvent = `{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/ghr-syncer"],"detail":{}}`

// pattern is an allocation-free asset body.
type pattern struct{ off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.off*7 + p.off>>9)
		p.off++
	}
	return len(b), nil
}

// fakeReleases serves one actions/runner release, GitHub-shaped, with one linux-x64 asset of
// size bytes whose SHA-256 is in the notes.
func fakeReleases(tb testing.TB, size int64) (*httptest.Server, string) {
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(&pattern{}, size))
	sum := hex.EncodeToString(h.Sum(nil))
	name := "actions-runner-linux-x64-2.321.0.tar.gz"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/repos/actions/runner/releases/latest":
			_ = json.NewEncoder(w).Encode(map[string]any{
				"tag_name": "v2.321.0",
				"body":     fmt.Sprintf("- %s <!-- BEGIN SHA linux-x64 -->%s<!-- END SHA linux-x64 -->", name, sum),
				"assets": []map[string]any{{"id": 9, "name": name, "size": size,
					"url": srv.URL + "/api/v3/repos/actions/runner/releases/assets/9"}},
			})
		case "/api/v3/repos/actions/runner/releases/assets/9":
			http.Redirect(w, r, srv.URL+"/storage/9", http.StatusFound)
		case "/storage/9":
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			_, _ = io.Copy(w, io.LimitReader(&pattern{}, size))
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv, sum
}

// deploy starts moto with the dist bucket and returns the syncer as lambdahost runs it.
func deploy(tb testing.TB, size int64) (*lambdahost.Host, *s3.Client, string) {
	tb.Helper()
	moto := motoserver.Start(tb)
	client := s3.NewFromConfig(moto.AWSConfig(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("ghr-dist")}); err != nil {
		tb.Fatal(err)
	}
	gh, sum := fakeReleases(tb, size)
	env := map[string]string{"PREFIX": "ghr", "DIST_BUCKET": "ghr-dist",
		"RUNNER_TARGETS": "linux-x64", "GITHUB_API_URL": gh.URL + "/api/v3", "LOG_LEVEL": "warn"}
	h := functest.Host(tb, asFunction, lambdahost.Function{Name: "ghr-syncer", Env: env, Timeout: invokeTimeout, MemoryMB: 256}, moto.Env())
	return h, client, sum
}

func invoke(tb testing.TB, h *lambdahost.Host) syncer.Result {
	tb.Helper()
	out, err := h.Invoke(context.Background(), []byte(scheduledEvent))
	if err != nil {
		tb.Fatalf("invoke: %v", err)
	}
	var res syncer.Result
	if err := json.Unmarshal(out, &res); err != nil {
		tb.Fatalf("result %s: %v", out, err)
	}
	return res
}

// TestSyncerFunction runs the real main() as a Lambda against moto: the first invocation
// uploads, the second finds the bucket current.
func TestSyncerFunction(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	h, client, sum := deploy(t, 11<<20)
	if res := invoke(t, h); len(res.Targets) != 1 || res.Targets[0].Action != syncer.ActionUploaded {
		t.Fatalf("first invocation: %+v", res)
	}
	head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("ghr-dist"), Key: aws.String(syncer.Key("linux-x64"))})
	if err != nil || aws.ToInt64(head.ContentLength) != 11<<20 || head.Metadata[syncer.MetaSHA256] != sum {
		t.Fatalf("object: %+v, %v", head, err)
	}
	if res := invoke(t, h); res.Targets[0].Action != syncer.ActionCurrent {
		t.Errorf("second invocation: %+v", res)
	}
}

// BenchmarkSyncerFunction200MB measures the real function process syncing a 200 MB asset into
// moto: peak-rss-MiB is its high-water resident set (it must fit a 256 MB Lambda).
func BenchmarkSyncerFunction200MB(b *testing.B) {
	const size = 200 << 20
	var peak int64
	for b.Loop() {
		b.StopTimer()
		h, _, _ := deploy(b, size)
		b.StartTimer()
		if res := invoke(b, h); res.Targets[0].Action != syncer.ActionUploaded || res.Targets[0].Bytes != size {
			b.Fatalf("%+v", res)
		}
		peak = max(peak, h.Stats().PeakRSSKB)
	}
	b.SetBytes(size)
	b.ReportMetric(float64(peak)/1024, "peak-rss-MiB")
}
