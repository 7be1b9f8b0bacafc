package sandbox

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/ghr-dev/ghr/internal/metrics"
)

// Metric shipping limits.
const (
	// metricShipInterval: CloudWatch extracts EMF within a minute; the sandbox runs sped up.
	metricShipInterval = time.Second
	// metricBatch is PutMetricData's most datums per call.
	metricBatch = 1000
	// metricValues is PutMetricData's most values per datum.
	metricValues = 150
)

// metricShipper plays CloudWatch's part for the functions' EMF lines: Lambda ships their
// output to CloudWatch Logs, which turns each EMF record into metrics. The sandbox's
// functions write to sandbox.log; the shipper tails it and publishes the records to the
// emulator's CloudWatch, so what reads metrics (ghr status) reads them as it would in AWS.
type metricShipper struct {
	path   string
	cw     *cloudwatch.Client
	log    *slog.Logger
	offset int64
}

func (m *metricShipper) run(ctx context.Context) {
	t := time.NewTicker(metricShipInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.ship(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("metrics not shipped to the emulator's CloudWatch", "error", err.Error())
		}
	}
}

// ship publishes the complete lines written since the last call.
func (m *metricShipper) ship(ctx context.Context) error {
	f, err := os.Open(m.path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, m.offset, 1<<40))
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(data, '\n') + 1 // a line still being written waits for the next call
	if end == 0 {
		return nil
	}
	pts, err := metrics.Read(bytes.NewReader(data[:end]))
	if err != nil {
		return err
	}
	m.offset += int64(end)
	var batch []cwtypes.MetricDatum
	for _, p := range pts {
		batch = append(batch, datums(p)...)
	}
	for len(batch) > 0 {
		n := min(len(batch), metricBatch)
		if _, err := m.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(metrics.Namespace), MetricData: batch[:n]}); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// datums turns one EMF point into CloudWatch datums, one series per dimension set.
// Dimensions go in name order: moto matches a query's dimensions only in the order they were
// put (docs/relaxations.md).
func datums(p metrics.Point) []cwtypes.MetricDatum {
	var out []cwtypes.MetricDatum
	for _, set := range p.Sets {
		var dims []cwtypes.Dimension
		for _, k := range slices.Sorted(slices.Values(set)) {
			dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(p.Dims[k])})
		}
		for vs := range slices.Chunk(p.Values, metricValues) {
			out = append(out, cwtypes.MetricDatum{MetricName: aws.String(p.Name), Dimensions: dims, Timestamp: aws.Time(p.At),
				Unit: cwtypes.StandardUnit(p.Unit), Values: vs})
		}
	}
	return out
}
