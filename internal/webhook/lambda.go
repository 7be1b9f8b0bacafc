package webhook

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// HandleLambda serves API Gateway HTTP API (payload 2.0) and Lambda Function URL events,
// which share one JSON shape. It never returns an error: every outcome is an HTTP answer,
// so Lambda never retries a request GitHub already saw answered.
func (in *Intake) HandleLambda(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	resp := in.Handle(ctx, Request{
		Method:          ev.RequestContext.HTTP.Method,
		Headers:         ev.Headers,
		Body:            ev.Body,
		IsBase64Encoded: ev.IsBase64Encoded,
		RequestID:       ev.RequestContext.RequestID,
		SourceIP:        ev.RequestContext.HTTP.SourceIP,
		ReceivedAt:      receivedAt(ev.RequestContext.TimeEpoch),
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: resp.Status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(resp.Body),
	}, nil
}

// receivedAt is API Gateway's request time (milliseconds since the epoch); 0 (a caller that
// does not set it) is the zero time.
func receivedAt(epochMillis int64) time.Time {
	if epochMillis <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(epochMillis)
}
