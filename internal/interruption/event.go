package interruption

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/tags"
)

// EventBridge detail types and sources the function subscribes to (terraform: runners module).
const (
	SourceEC2         = "aws.ec2"
	DetailWarning     = "EC2 Spot Instance Interruption Warning"
	DetailStateChange = "EC2 Instance State-change Notification"
)

// Kind is what an event says about an instance.
type Kind int

const (
	// Warning: the spot instance will be reclaimed in about two minutes.
	Warning Kind = iota + 1
	// Stopped: the instance is shutting down or terminated (whoever did it).
	Stopped
)

// Event is an EventBridge event reduced to what the decision needs.
type Event struct {
	Kind       Kind
	InstanceID string
	State      string // state changes: shutting-down, terminated, ...
	At         time.Time
}

// ErrIgnored marks an event this function does not act on (another source, a state that
// is not a stop); it is logged, never retried.
var ErrIgnored = errors.New("event ignored")

// stoppedStates are the state changes that end a runner.
var stoppedStates = map[string]bool{"shutting-down": true, "terminated": true, "stopping": true, "stopped": true}

// ParseEvent reads a spot warning or a state change. Anything else is ErrIgnored; a
// malformed detail is an error (EventBridge never sends one, so it is not retried either).
func ParseEvent(ev events.EventBridgeEvent) (Event, error) {
	if ev.Source != SourceEC2 {
		return Event{}, fmt.Errorf("source %q: %w", ev.Source, ErrIgnored)
	}
	var d struct {
		InstanceID string `json:"instance-id"`
		State      string `json:"state"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Event{}, fmt.Errorf("%s detail: %w", ev.DetailType, err)
	}
	if !tags.IsInstanceID(d.InstanceID) {
		return Event{}, fmt.Errorf("%s: instance-id %q is not an instance id", ev.DetailType, d.InstanceID)
	}
	out := Event{InstanceID: d.InstanceID, State: d.State, At: ev.Time}
	switch ev.DetailType {
	case DetailWarning:
		out.Kind = Warning
	case DetailStateChange:
		if !stoppedStates[d.State] {
			return Event{}, fmt.Errorf("state %q: %w", d.State, ErrIgnored)
		}
		out.Kind = Stopped
	default:
		return Event{}, fmt.Errorf("detail type %q: %w", ev.DetailType, ErrIgnored)
	}
	return out, nil
}
