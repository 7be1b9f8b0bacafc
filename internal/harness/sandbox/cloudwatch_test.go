package sandbox

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/metrics"
)

// The shipper publishes each EMF record the functions wrote, once, and waits for a line to be
// complete; other log lines are skipped.
func TestMetricShipperPublishesEMFRecords(t *testing.T) {
	moto := motoserver.Start(t)
	cw := cloudwatch.NewFromConfig(moto.AWSConfig())
	path := filepath.Join(t.TempDir(), "sandbox.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var emf bytes.Buffer
	rec := metrics.New(&emf, "ghr", "scale-up").WithClock(time.Now)
	rec.Add(metrics.JobsDeferred, 2, "small", "drained")
	rec.Observe(metrics.WaitingJobAge, 42_000, "small")
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	line := emf.Bytes()
	if _, err := f.WriteString(`{"level":"INFO","msg":"not a metric"}` + "\n"); err != nil {
		t.Fatal(err)
	}
	half := bytes.IndexByte(line, '\n') / 2
	if _, err := f.Write(line[:half]); err != nil {
		t.Fatal(err)
	}
	m := &metricShipper{path: path, cw: cw, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	if err := m.ship(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cwStat(t, cw, "JobsDeferred", "Sum"); n != 0 {
		t.Fatalf("a half-written line was published: %v", n)
	}
	if _, err := f.Write(line[half:]); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call finds nothing new
		if err := m.ship(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := cwStat(t, cw, "JobsDeferred", "Sum"); n != 2 {
		t.Errorf("JobsDeferred{deployment} = %v, want 2", n)
	}
	if n := cwStat(t, cw, "WaitingJobAge", "Maximum"); n != 42_000 {
		t.Errorf("WaitingJobAge{deployment} = %v, want 42000", n)
	}
}

// cwStat reads statistic of a metric's deployment-only series over the last few minutes.
func cwStat(t *testing.T, cw *cloudwatch.Client, name, statistic string) float64 {
	t.Helper()
	now := time.Now()
	out, err := cw.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("ghr"), MetricName: aws.String(name),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("deployment"), Value: aws.String("ghr")}}},
			Period: aws.Int32(360), Stat: aws.String(statistic)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, r := range out.MetricDataResults {
		for _, x := range r.Values {
			v += x
		}
	}
	return v
}
