package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// asyncRetries is EventBridge's delivery to a Lambda target: an asynchronous invocation that
// Lambda retries twice when the function returns an error.
const asyncRetries = 2

// asyncRetryDelay spaces the retries (Lambda waits a minute, then two; sped up like schedules).
const asyncRetryDelay = time.Second

// throttleRetryFor is how long a throttled asynchronous event is retried: Lambda keeps it
// queued for up to six hours, not counting it against asyncRetries; the sandbox's runs are
// minutes long, so this stands for "until the function has room".
const throttleRetryFor = 5 * time.Minute

// EventRule is an EventBridge rule with an event pattern and the function it targets. moto's
// EventBridge stores rules but never invokes a Lambda target, so the sandbox plays the bus:
// an event published here reaches every rule whose pattern matches, as on AWS.
type EventRule struct {
	Name    string
	Pattern string // the rule's event pattern, JSON
	Target  Invoker
	Log     *slog.Logger

	once    sync.Once
	match   map[string]any
	initErr error
}

// EventBus delivers events to rules.
type EventBus struct {
	Rules []*EventRule

	wg        sync.WaitGroup
	mu        sync.Mutex
	delivered int
}

// Check parses every rule's pattern; a pattern the bus cannot evaluate is an error at wire
// time rather than a silently missed event.
func (b *EventBus) Check() error {
	for _, r := range b.Rules {
		if err := r.parse(); err != nil {
			return err
		}
	}
	return nil
}

// Publish sends ev to every matching rule's target asynchronously, with Lambda's retries.
func (b *EventBus) Publish(ctx context.Context, ev events.EventBridgeEvent) { b.publish(ctx, ev, nil) }

// PublishWait is Publish that returns once ev's deliveries (retries included) are done: EC2
// sends a spot warning two minutes before the reclaim, far longer than a function takes, so
// the sandbox reclaims only after the warning was handled.
func (b *EventBus) PublishWait(ctx context.Context, ev events.EventBridgeEvent) {
	var done sync.WaitGroup
	b.publish(ctx, ev, &done)
	done.Wait()
}

func (b *EventBus) publish(ctx context.Context, ev events.EventBridgeEvent, done *sync.WaitGroup) {
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.Version == "" {
		ev.Version, ev.AccountID, ev.Region = "0", "123456789012", "us-east-1"
	}
	doc, _ := json.Marshal(ev)
	var generic map[string]any
	_ = json.Unmarshal(doc, &generic)
	for _, r := range b.Rules {
		if r.parse() != nil || !matches(r.match, generic) {
			continue
		}
		b.mu.Lock()
		b.delivered++
		b.mu.Unlock()
		b.wg.Add(1)
		if done != nil {
			done.Add(1)
		}
		go func() {
			defer b.wg.Done()
			if done != nil {
				defer done.Done()
			}
			r.deliver(ctx, doc)
		}()
	}
}

// Delivered counts rule deliveries so far.
func (b *EventBus) Delivered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delivered
}

// Wait waits for every delivery in flight.
func (b *EventBus) Wait() { b.wg.Wait() }

func (r *EventRule) parse() error {
	r.once.Do(func() {
		if err := json.Unmarshal([]byte(r.Pattern), &r.match); err != nil {
			r.initErr = fmt.Errorf("rule %s: event pattern: %w", r.Name, err)
			return
		}
		r.initErr = checkPattern(r.Name, r.match)
	})
	return r.initErr
}

func (r *EventRule) deliver(ctx context.Context, payload []byte) {
	throttledUntil := time.Now().Add(throttleRetryFor)
	for attempt := 0; ; attempt++ {
		_, err := r.Target.Invoke(ctx, payload)
		if err == nil || ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrThrottled) && time.Now().Before(throttledUntil) {
			attempt-- // Lambda retries throttles apart from function errors
		}
		if attempt == asyncRetries {
			if r.Log != nil {
				r.Log.Warn("event delivery failed after retries", "rule", r.Name, "error", err.Error())
			}
			return
		}
		select {
		case <-time.After(asyncRetryDelay):
		case <-ctx.Done():
			return
		}
	}
}

// checkPattern accepts what the bus evaluates: nested objects whose leaves are arrays of
// exact values. EventBridge's operators (prefix, anything-but, numeric, exists, ...) are
// objects inside those arrays and are refused.
func checkPattern(rule string, p map[string]any) error {
	for k, v := range p {
		switch v := v.(type) {
		case map[string]any:
			if err := checkPattern(rule, v); err != nil {
				return err
			}
		case []any:
			for _, x := range v {
				if _, op := x.(map[string]any); op {
					return fmt.Errorf("rule %s: field %s: content filters are not simulated", rule, k)
				}
			}
		default:
			return fmt.Errorf("rule %s: field %s: a pattern value must be an array or an object", rule, k)
		}
	}
	return nil
}

// matches is EventBridge's rule: every pattern field must be present in the event, an array
// matches when the event's value (or any element of an array value) is one of its values.
func matches(pattern, ev map[string]any) bool {
	for k, want := range pattern {
		got, ok := ev[k]
		if !ok {
			return false
		}
		switch want := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matches(want, sub) {
				return false
			}
		case []any:
			if !anyEqual(want, got) {
				return false
			}
		}
	}
	return true
}

func anyEqual(values []any, got any) bool {
	gots := []any{got}
	if arr, ok := got.([]any); ok {
		gots = arr
	}
	for _, g := range gots {
		for _, v := range values {
			if v == g {
				return true
			}
		}
	}
	return false
}
