package lambdahost

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type recorder struct {
	mu       sync.Mutex
	got      []events.EventBridgeEvent
	fail     int
	throttle int
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ev events.EventBridgeEvent
	_ = json.Unmarshal(payload, &ev)
	r.got = append(r.got, ev)
	if r.throttle > 0 {
		r.throttle--
		return nil, ErrThrottled
	}
	if r.fail > 0 {
		r.fail--
		return nil, context.DeadlineExceeded
	}
	return nil, nil
}

func TestEventBusMatchesPatterns(t *testing.T) {
	warn, stop := &recorder{throttle: 3}, &recorder{fail: 1}
	bus := &EventBus{Rules: []*EventRule{
		{Name: "warn", Pattern: `{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}`, Target: warn},
		{Name: "stop", Pattern: `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["shutting-down","terminated"]}}`, Target: stop},
	}}
	if err := bus.Check(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pub := func(dt, detail string) {
		bus.Publish(ctx, events.EventBridgeEvent{Source: "aws.ec2", DetailType: dt, Detail: json.RawMessage(detail)})
	}
	pub("EC2 Spot Instance Interruption Warning", `{"instance-id":"i-1","instance-action":"terminate"}`)
	pub("EC2 Instance State-change Notification", `{"instance-id":"i-1","state":"running"}`)
	pub("EC2 Instance State-change Notification", `{"instance-id":"i-1","state":"terminated"}`)
	bus.Publish(ctx, events.EventBridgeEvent{Source: "aws.events", DetailType: "EC2 Spot Instance Interruption Warning", Detail: json.RawMessage(`{}`)})
	bus.Wait()
	if len(warn.got) != 4 || warn.got[0].ID == "" {
		t.Errorf("warning rule got %d invocations, want 3 throttled ones retried beyond Lambda's 2 error retries, then 1", len(warn.got))
	}
	if len(stop.got) != 2 || stop.got[1].ID != stop.got[0].ID {
		t.Errorf("stop rule got %d invocations, want the terminated event and its retry", len(stop.got))
	}
	bad := &EventBus{Rules: []*EventRule{{Name: "prefix", Pattern: `{"source":[{"prefix":"aws."}]}`, Target: warn}}}
	if bad.Check() == nil {
		t.Error("a content filter the bus cannot evaluate must fail at wire time")
	}
}
