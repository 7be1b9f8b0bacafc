package scaleup

import (
	"context"
	"log/slog"
	"time"
)

// metricsNamespace is the CloudWatch namespace of ghr's metrics.
const metricsNamespace = "ghr"

// emitMetrics writes one CloudWatch Embedded Metric Format record: CloudWatch turns the log
// line into metrics, so counting costs no API call. counts maps metric name to value.
func emitMetrics(ctx context.Context, log *slog.Logger, now time.Time, counts map[string]int) {
	names := sortedKeys(counts)
	defs := make([]map[string]string, 0, len(names))
	attrs := []slog.Attr{slog.String("function", "scale-up")}
	for _, n := range names {
		defs = append(defs, map[string]string{"Name": n, "Unit": "Count"})
		attrs = append(attrs, slog.Int(n, counts[n]))
	}
	attrs = append(attrs, slog.Any("_aws", map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  metricsNamespace,
			"Dimensions": [][]string{{"function"}},
			"Metrics":    defs,
		}},
	}))
	log.LogAttrs(ctx, slog.LevelInfo, "metrics", attrs...)
}
