package lambdahost

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Schedule invokes a function periodically with an EventBridge "Scheduled Event", Speedup
// times faster than the deployed rate (a 5-minute schedule at Speedup 60 fires every 5 s).
type Schedule struct {
	Name    string
	Every   time.Duration
	Speedup float64
	Target  Invoker
	Log     *slog.Logger
	// Fired counts invocations (read after Run returns).
	Fired int
}

// Run fires until ctx ends; the first firing happens at once, as after a deploy.
func (s *Schedule) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval())
	defer t.Stop()
	for {
		s.fire(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Interval is the real-time period between firings.
func (s *Schedule) Interval() time.Duration {
	if s.Speedup > 1 {
		return time.Duration(float64(s.Every) / s.Speedup)
	}
	return s.Every
}

func (s *Schedule) fire(ctx context.Context) {
	ev := events.EventBridgeEvent{
		Version: "0", ID: newID(), DetailType: "Scheduled Event", Source: "aws.events",
		AccountID: "123456789012", Time: time.Now().UTC(), Region: "us-east-1",
		Resources: []string{"arn:aws:events:us-east-1:123456789012:rule/" + s.Name}, Detail: json.RawMessage("{}"),
	}
	payload, _ := json.Marshal(ev)
	s.Fired++
	if _, err := s.Target.Invoke(ctx, payload); err != nil && ctx.Err() == nil && s.Log != nil {
		s.Log.Warn("scheduled invocation failed", "schedule", s.Name, "error", err.Error())
	}
}
