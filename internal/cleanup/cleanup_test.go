package cleanup

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

const prefix = "ghr-"

var octo = scaledown.Owner{Level: tags.TypeOrg, Name: "octo"}

// fakeEnvironment is the deployment the test instances belong to.
const fakeEnvironment = "ghr"

// memFleet is the deployment's Fleet as shipped (EC2) on the in-memory EC2 fake.
type memFleet struct {
	EC2
	fake *ec2fleettest.Fake
}

var _ EC2API = (*ec2fleettest.Fake)(nil)

// put starts in with the tags scale-up (and an operator, for ghr:protect) would have set.
func (f *memFleet) put(in scaledown.Instance) {
	var extra map[string]string
	if in.Protected {
		extra = map[string]string{tags.Protect: "true"}
	}
	f.fake.PutRunner(ec2fleettest.Runner{ID: in.ID, Environment: fakeEnvironment, Config: in.RunnerConfig, Level: in.Owner.Level,
		Owner: in.Owner.Name, RunnerID: in.RunnerID, LaunchTime: in.LaunchTime, Extra: extra})
}

// alive lists the instances not terminated, sorted.
func (f *memFleet) alive() []string {
	var out []string
	for _, i := range f.fake.Instances("running") {
		out = append(out, i.ID)
	}
	return slices.Sorted(slices.Values(out))
}

func (f *memFleet) isAlive(id string) bool { return slices.Contains(f.alive(), id) }

func (f *memFleet) calls(op string) int { return f.fake.Calls()[op] }

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
	fleet := &memFleet{fake: ec2fleettest.NewFake()}
	fleet.EC2 = EC2{API: fleet.fake, Prefix: fakeEnvironment, LaunchTemplates: []string{ec2fleettest.TemplateID}}
	for _, in := range []scaledown.Instance{
		inst("i-0e000001", "eph", false), inst("i-0e000002", "eph", false), inst("i-0b000001", "pers", false), inst("i-0c000001", "eph", true),
	} {
		fleet.put(in)
	}
	c := &Cleaner{
		Fleet: fleet, GitHub: &scaledown.GitHub{App: gh.App(t)}, RunnerNamePrefix: prefix,
		Configs: []config.RunnerConfig{{Key: "eph", Ephemeral: true}, {Key: "pers"}},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return c, fleet, gh
}

// registered records runner id on the instance as scale-up's ghr:registered call does.
func (f *memFleet) registered(id string, runnerID int64) {
	i, _ := f.fake.Instance(id)
	delete(i.Tags, tags.RunnerIDKey(id))
	if runnerID != 0 {
		i.Tags[tags.RunnerIDKey(id)] = strconv.FormatInt(runnerID, 10)
	}
	f.fake.Put(i)
}

func TestCleanupTerminatesFinishedEphemeralRunners(t *testing.T) {
	c, fleet, gh := setup(t)
	var emf bytes.Buffer
	c.Metrics = metrics.New(&emf, "ghr", "cleanup")
	ephRunner := gh.AddRunner("orgs/octo", prefix+"i-0e000001", true, false)
	persRunner := gh.AddRunner("orgs/octo", prefix+"i-0b000001", true, false)
	fleet.registered("i-0e000001", ephRunner)
	fleet.registered("i-0e000002", 12345)
	fleet.registered("i-0b000001", persRunner)
	fleet.registered("i-0c000001", 77)
	inProgress, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionInProgress, JobID: 9, Repo: "octo/app", Owner: "octo", RunnerName: prefix + "i-0e000002", RunnerID: 5})
	resp, err := c.HandleSQS(context.Background(), batch(
		completed(1, prefix+"i-0e000001", ephRunner), // terminate and deregister
		completed(2, prefix+"i-0e000002", 12345),     // terminate; GitHub already removed it (404)
		completed(3, prefix+"i-0b000001", persRunner),
		completed(4, prefix+"i-0c000001", 77),
		completed(5, prefix+"i-0d000001", 78),
		completed(6, "GitHub Actions 3", 79),
		string(inProgress),
		`{"v":2,"action":"completed"}`,
		completed(1, prefix+"i-0e000001", ephRunner), // a duplicate delivery
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	alive := fleet.alive()
	if want := []string{"i-0b000001", "i-0c000001"}; !slices.Equal(alive, want) {
		t.Errorf("alive = %v, want %v", alive, want)
	}
	if describes, terminates := fleet.calls("DescribeInstances"), fleet.calls("TerminateInstances"); describes != 1 || terminates != 1 {
		t.Errorf("describe calls %d, terminate calls %d; want one each per batch", describes, terminates)
	}
	left := gh.Runners("orgs/octo")
	if len(left) != 1 || left[0].ID != persRunner {
		t.Errorf("registrations left = %+v, want only the persistent runner", left)
	}
	c.Metrics.Flush()
	pts, _ := metrics.Read(&emf)
	if got := metrics.Sum(pts, "InstancesTerminated", map[string]string{"reason": TerminateReason}); got != 2 {
		t.Errorf("InstancesTerminated{completed} = %v, want 2", got)
	}
	if got := metrics.Sum(pts, "JobsCompleted", map[string]string{"config": "eph"}); got != 4 { // i-eph twice, i-eph2, i-prot
		t.Errorf("JobsCompleted{eph} = %v, want 4", got)
	}
}

// TestCleanupSpendsNoDeleteAfterASuccessfulJob: GitHub removes an ephemeral runner that ran
// its job to the end, so clean-up terminates the instance and calls GitHub for nothing.
func TestCleanupSpendsNoDeleteAfterASuccessfulJob(t *testing.T) {
	c, fleet, gh := setup(t)
	runner := gh.AddRunner("orgs/octo", prefix+"i-0e000001", true, false)
	fleet.registered("i-0e000001", runner)
	var ev queue.Lifecycle
	if err := json.Unmarshal([]byte(completed(1, prefix+"i-0e000001", runner)), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Conclusion = "success"
	body, _ := json.Marshal(ev)
	minted := gh.TokensMinted()
	if resp, err := c.HandleSQS(context.Background(), batch(string(body))); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	if alive := fleet.alive(); slices.Contains(alive, "i-0e000001") {
		t.Errorf("the finished runner's instance is still alive: %v", alive)
	}
	// The fake does not remove a finished ephemeral runner as GitHub does: the registration
	// still being there shows no DELETE was sent, and no token was minted for one.
	if left := gh.Runners("orgs/octo"); len(left) != 1 || gh.TokensMinted() != minted {
		t.Errorf("registrations %+v, tokens minted %d → %d: clean-up called GitHub", left, minted, gh.TokensMinted())
	}
}

func TestCleanupRetriesOnlyFailedAWSCalls(t *testing.T) {
	c, fleet, _ := setup(t)
	fleet.registered("i-0e000001", 1)
	fleet.fake.FailNext("TerminateInstances", "RequestLimitExceeded")
	resp, _ := c.HandleSQS(context.Background(), batch(completed(1, prefix+"i-0e000001", 1), completed(2, prefix+"i-0b000001", 2), "not json"))
	if got := failed(resp); !slices.Equal(got, []string{"a"}) {
		t.Errorf("terminate failure: retried %v, want [a]", got)
	}
	fleet.fake.FailNext("DescribeInstances", "RequestLimitExceeded")
	resp, _ = c.HandleSQS(context.Background(), batch(completed(1, prefix+"i-0e000001", 1), completed(2, prefix+"i-0b000001", 2), completed(3, "other", 3)))
	if got := failed(resp); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("describe failure: retried %v, want [a b]", got)
	}
}

// The clean-up impostor: an admin of another repository the App is installed on registers a
// runner named after a victim instance and runs a job on it. The completed event names the
// victim, but neither its runner id nor its owner is the victim's: nothing is terminated or
// deleted. Today's main terminated the victim mid-job.
func TestCleanupIgnoresImpostorRunners(t *testing.T) {
	c, fleet, gh := setup(t)
	gh.AddInstallation(8, "mallory", "Organization")
	victim := gh.AddRunner("orgs/octo", prefix+"i-0e000001", true, true) // busy with a job
	fleet.registered("i-0e000001", victim)
	impostor := gh.AddRunner("orgs/mallory", prefix+"i-0e000001", true, false)
	event := func(jobID int64, repo, owner string, runnerID int64) string {
		b, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionCompleted, JobID: jobID, Repo: repo, Owner: owner,
			RunnerID: runnerID, RunnerName: prefix + "i-0e000001", DeliveryID: "d", At: time.Now()})
		return string(b)
	}
	resp, err := c.HandleSQS(context.Background(), batch(
		event(1, "mallory/tools", "mallory", impostor), // the attack as GitHub delivers it
		event(2, "mallory/tools", "mallory", victim),   // guessed the victim's runner id too
		event(3, "octo/app", "octo", impostor),         // right owner, wrong runner id
		event(4, "octo/app", "octo", 0),                // no runner id at all
		event(5, "octo-evil/app", "octo-evil", victim), // an owner that merely starts alike
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	if n := fleet.calls("TerminateInstances"); !fleet.isAlive("i-0e000001") || n != 0 {
		t.Fatalf("victim terminated by an impostor's event (terminate calls %d)", n)
	}
	if got := gh.Runners("orgs/octo"); len(got) != 1 || got[0].ID != victim {
		t.Errorf("victim's registration touched: %+v", got)
	}
	// An instance whose runner id is unknown is left to reconcile, even for its own event.
	fleet.registered("i-0e000001", 0)
	c.HandleSQS(context.Background(), batch(event(6, "octo/app", "octo", victim)))
	if !fleet.isAlive("i-0e000001") {
		t.Error("an instance without a stored runner id was terminated on a name alone")
	}
}

// A repo-level runner is proven by the full repository name.
func TestCleanupRepoLevelOwner(t *testing.T) {
	c, fleet, gh := setup(t)
	gh.AddInstallation(9, "octo/app", "Organization")
	fleet.put(scaledown.Instance{ID: "i-0e000001", RunnerConfig: "eph", Owner: scaledown.Owner{Level: tags.TypeRepo, Name: "octo/app"}, LaunchTime: time.Now().Add(-time.Minute)})
	fleet.registered("i-0e000001", 41)
	b, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionCompleted, JobID: 1, Repo: "octo/other", Owner: "octo",
		RunnerID: 41, RunnerName: prefix + "i-0e000001", DeliveryID: "d", At: time.Now()})
	c.HandleSQS(context.Background(), batch(string(b)))
	if !fleet.isAlive("i-0e000001") {
		t.Fatal("a job of another repository terminated a repo-level runner")
	}
	c.HandleSQS(context.Background(), batch(completed(2, prefix+"i-0e000001", 41)))
	if fleet.isAlive("i-0e000001") {
		t.Fatal("the runner's own completed job did not terminate it")
	}
}

// TestCleanupIgnoresForgedOwnershipTag: an instance someone else launched and tagged with
// every ghr tag, the stored runner id included, is not this deployment's: EC2 never gave it
// the deployment's launch template id, and nobody can add that tag. Its own completed
// event, right runner id and owner, must not terminate it; a twin from the template is.
func TestCleanupIgnoresForgedOwnershipTag(t *testing.T) {
	c, fleet, gh := setup(t)
	forgedRunner := gh.AddRunner("orgs/octo", prefix+"i-0f000001", true, false)
	fleet.fake.PutRunner(ec2fleettest.Runner{ID: "i-0f000001", Environment: fakeEnvironment, Config: "eph", Level: tags.TypeOrg,
		Owner: "octo", RunnerID: forgedRunner, LaunchTime: time.Now().Add(-time.Minute), NoTemplate: true})
	ownRunner := gh.AddRunner("orgs/octo", prefix+"i-0e000001", true, false)
	fleet.registered("i-0e000001", ownRunner)
	// The forger cannot add the template tag either.
	if _, err := fleet.fake.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{"i-0f000001"},
		Tags: []ec2types.Tag{{Key: aws.String(tags.LaunchTemplateID), Value: aws.String(ec2fleettest.TemplateID)}}}); err == nil {
		t.Fatal("CreateTags with an aws: key succeeded; EC2 refuses it")
	}
	resp, err := c.HandleSQS(context.Background(), batch(completed(1, prefix+"i-0f000001", forgedRunner), completed(2, prefix+"i-0e000001", ownRunner)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	if !fleet.isAlive("i-0f000001") {
		t.Fatal("an instance with forged ghr tags but not launched from the deployment's template was terminated")
	}
	if fleet.isAlive("i-0e000001") {
		t.Fatal("the deployment's own finished runner was not terminated: the forged case proves nothing")
	}
}
