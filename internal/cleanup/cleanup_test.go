package cleanup

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

const prefix = "ghr-"

var octo = scaledown.Owner{Level: tags.TypeOrg, Name: "octo"}

// memFleet is an in-memory EC2 side with switchable failures.
type memFleet struct {
	instances                   map[string]scaledown.Instance
	describes, terminates       int
	failDescribe, failTerminate bool
}

func (f *memFleet) Describe(_ context.Context, ids []string) ([]scaledown.Instance, error) {
	f.describes++
	if f.failDescribe {
		return nil, errors.New("describe: throttled")
	}
	var out []scaledown.Instance
	for _, id := range ids {
		if in, ok := f.instances[id]; ok {
			out = append(out, in)
		}
	}
	return out, nil
}

func (f *memFleet) Terminate(_ context.Context, ids []string) error {
	f.terminates++
	if f.failTerminate {
		return errors.New("terminate: throttled")
	}
	for _, id := range ids {
		delete(f.instances, id)
	}
	return nil
}

func completed(jobID int64, runnerName string, runnerID int64) string {
	b, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionCompleted, JobID: jobID, Repo: "octo/app", Owner: "octo",
		RunnerID: runnerID, RunnerName: runnerName, DeliveryID: "d", At: time.Now()})
	return string(b)
}

func batch(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: string(rune('a' + i)), Body: b})
	}
	return ev
}

func failed(r events.SQSEventResponse) []string {
	var out []string
	for _, f := range r.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func setup(t *testing.T) (*Cleaner, *memFleet, *ghfake.Server) {
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	inst := func(id, cfg string, protected bool) scaledown.Instance {
		return scaledown.Instance{ID: id, RunnerConfig: cfg, Owner: octo, LaunchTime: time.Now().Add(-time.Minute), Protected: protected}
	}
	fleet := &memFleet{instances: map[string]scaledown.Instance{
		"i-eph": inst("i-eph", "eph", false), "i-eph2": inst("i-eph2", "eph", false),
		"i-pers": inst("i-pers", "pers", false), "i-prot": inst("i-prot", "eph", true),
	}}
	c := &Cleaner{
		Fleet: fleet, GitHub: &scaledown.GitHub{App: gh.App(t)}, RunnerNamePrefix: prefix,
		Configs: []config.RunnerConfig{{Key: "eph", Ephemeral: true}, {Key: "pers"}},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return c, fleet, gh
}

func TestCleanupTerminatesFinishedEphemeralRunners(t *testing.T) {
	c, fleet, gh := setup(t)
	ephRunner := gh.AddRunner("orgs/octo", prefix+"i-eph", true, false)
	persRunner := gh.AddRunner("orgs/octo", prefix+"i-pers", true, false)
	inProgress, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionInProgress, JobID: 9, Repo: "octo/app", Owner: "octo", RunnerName: prefix + "i-eph2", RunnerID: 5})
	resp, err := c.HandleSQS(context.Background(), batch(
		completed(1, prefix+"i-eph", ephRunner), // terminate and deregister
		completed(2, prefix+"i-eph2", 12345),    // terminate; GitHub already removed it (404)
		completed(3, prefix+"i-pers", persRunner),
		completed(4, prefix+"i-prot", 77),
		completed(5, prefix+"i-0gone", 78),
		completed(6, "GitHub Actions 3", 79),
		string(inProgress),
		`{"v":2,"action":"completed"}`,
		completed(1, prefix+"i-eph", ephRunner), // a duplicate delivery
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	alive := slices.Sorted(maps.Keys(fleet.instances))
	if want := []string{"i-pers", "i-prot"}; !slices.Equal(alive, want) {
		t.Errorf("alive = %v, want %v", alive, want)
	}
	if fleet.describes != 1 || fleet.terminates != 1 {
		t.Errorf("describe calls %d, terminate calls %d; want one each per batch", fleet.describes, fleet.terminates)
	}
	left := gh.Runners("orgs/octo")
	if len(left) != 1 || left[0].ID != persRunner {
		t.Errorf("registrations left = %+v, want only the persistent runner", left)
	}
}

func TestCleanupRetriesOnlyFailedAWSCalls(t *testing.T) {
	c, fleet, _ := setup(t)
	fleet.failTerminate = true
	resp, _ := c.HandleSQS(context.Background(), batch(completed(1, prefix+"i-eph", 1), completed(2, prefix+"i-pers", 2), "not json"))
	if got := failed(resp); !slices.Equal(got, []string{"a"}) {
		t.Errorf("terminate failure: retried %v, want [a]", got)
	}
	fleet.failTerminate, fleet.failDescribe = false, true
	resp, _ = c.HandleSQS(context.Background(), batch(completed(1, prefix+"i-eph", 1), completed(2, prefix+"i-pers", 2), completed(3, "other", 3)))
	if got := failed(resp); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("describe failure: retried %v, want [a b]", got)
	}
}
