package scaleup_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/pool"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

const baseConfigs = `[
 {"key":"linux","labels":["self-hosted","linux"],"queue_url":"q1","ephemeral":true,"max_runners":-1,
  "launch_template":"ghr-linux","instance_types":["m7g.large","c7g.large"],"subnet_ids":["subnet-a","subnet-b"]},
 {"key":"capped","labels":["self-hosted","capped"],"queue_url":"q2","ephemeral":true,"max_runners":2,
  "launch_template":"ghr-capped","instance_types":["m7g.large"],"subnet_ids":["subnet-a"]},
 {"key":"persistent","labels":["self-hosted","big"],"queue_url":"q3","ephemeral":false,"max_runners":-1,"runner_group":"ci",
  "launch_template":"ghr-big","instance_types":["m7g.xlarge"],"subnet_ids":["subnet-a"]},
 {"key":"exact","labels":["self-hosted","gpu"],"queue_url":"q4","ephemeral":true,"max_runners":-1,"use_job_labels":true,
  "launch_template":"ghr-gpu","instance_types":["g5.xlarge"],"subnet_ids":["subnet-a"]}
]`

type world struct {
	t   testing.TB
	ec2 *ec2fleettest.Fake
	ssm *fakeSSM
	gh  *ghfake.Server
	app *githubapp.App
	h   *scaleup.Handler
	log *bytes.Buffer
	emf *bytes.Buffer // the handler's EMF records
}

func newWorld(t testing.TB, latency time.Duration, checkQueued string) *world {
	cfgs, err := config.ParseRunnerConfigs([]byte(baseConfigs))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ec2: ec2fleettest.NewFake(), ssm: newFakeSSM(latency), gh: newGitHub(t, latency), log: &bytes.Buffer{}, emf: &bytes.Buffer{}}
	w.ec2.Latency = latency
	w.app = w.gh.App(t)
	logger := slog.New(slog.NewJSONHandler(w.log, nil))
	if latency > 0 {
		logger = discardLogger()
	}
	l := &scaleup.Launcher{
		Compute:          &scaleup.EC2Compute{API: w.ec2, Fleet: &ec2fleet.Fleet{API: w.ec2, Cache: ec2fleet.NewOfferingCache(time.Minute, nil)}, Environment: "ghr", LaunchTemplates: []string{ec2fleettest.TemplateID}},
		Tokens:           runnertoken.Store{API: w.ssm, Prefix: "ghr", KMSKeyID: "alias/ghr-tokens"},
		GitHub:           scaleup.NewAppGitHub(w.app, "https://github.com", 10, nil),
		RunnerNamePrefix: "ghr-", Logger: logger,
	}
	rec := metrics.New(w.emf, "ghr", "scale-up")
	l.Metrics = rec
	w.h = &scaleup.Handler{Launcher: l, Configs: config.ByKey(cfgs), CheckJobQueued: checkQueued, Logger: logger, Metrics: rec}
	return w
}

// handle runs a batch and returns the retried message ids.
func (w *world) handle(ev events.SQSEvent) []string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := w.h.Handle(ctx, ev)
	if err != nil {
		w.t.Fatalf("Handle: %v", err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func (w *world) live() []ec2fleettest.FakeInstance {
	return append(w.ec2.Instances("pending"), w.ec2.Instances("running")...)
}

func msgIDs(ev events.SQSEvent, idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, ev.Records[i].MessageId)
	}
	return out
}

func TestLaunchRegistersEveryRunner(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	ev := sqsEvent(t, job(3, "linux", "octo"), job(1, "linux", "octo"), job(2, "linux", "octo"))
	if retried := w.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v, want none", retried)
	}
	live := w.live()
	if len(live) != 3 {
		t.Fatalf("%d live instances, want 3", len(live))
	}
	if n := w.metric("JobsLaunched", map[string]string{"config": "linux", "deployment": "ghr"}); n != 3 {
		t.Errorf("JobsLaunched = %v, want 3", n)
	}
	params := w.ssm.snapshot()
	jits := w.gh.JITConfigs()
	for _, i := range live {
		want := map[string]string{
			tags.Environment: "ghr", tags.RunnerConfig: "linux", tags.Type: "org", tags.Owner: "octo",
			tags.JobID: "1,2,3", tags.CreatedBy: tags.CreatedByScaleUp,
		}
		for k, v := range want {
			if i.Tags[k] != v {
				t.Errorf("instance %s tag %s = %q, want %q", i.ID, k, i.Tags[k], v)
			}
		}
		p, ok := params[runnertoken.Path("ghr", "linux", i.ID)]
		if !ok || p.typ != ssmtypes.ParameterTypeSecureString || p.kmsKey != "alias/ghr-tokens" || p.tags[tags.InstanceID] != i.ID {
			t.Errorf("token parameter of %s = %+v (found %v)", i.ID, p, ok)
		}
		if !strings.Contains(decodeJIT(t, p.value), "ghr-"+i.ID) {
			t.Errorf("token of %s does not hold its JIT config", i.ID)
		}
		if !slices.ContainsFunc(jits, func(c ghfake.JITConfig) bool {
			return c.Name == "ghr-"+i.ID && c.Path == "/orgs/octo/actions/runners/generate-jitconfig" &&
				slices.Equal(c.Labels, []string{"self-hosted", "linux"}) && c.Group == 1
		}) {
			t.Errorf("no org JIT config with the config's labels for %s in %+v", i.ID, jits)
		}
	}
	for _, i := range w.live() {
		if _, err := time.Parse(time.RFC3339, i.Tags[tags.Registered]); err != nil {
			t.Errorf("instance %s: %s tag %q is not a time", i.ID, tags.Registered, i.Tags[tags.Registered])
		}
		// The runner id GitHub returned for this host's JIT config, by this host's key.
		id := tags.RunnerIDOf(i.ID, i.Tags)
		if id <= 0 || !slices.ContainsFunc(w.gh.JITConfigs(), func(c ghfake.JITConfig) bool { return c.ID == id && c.Name == "ghr-"+i.ID }) {
			t.Errorf("instance %s: runner id tag %d names no registration of its runner", i.ID, id)
		}
	}
	calls := w.ec2.Calls()
	if calls["DescribeInstances"] != 1 || calls["CreateFleet"] != 1 || calls["CreateTags"] != 1 || len(calls) != 3 {
		t.Fatalf("EC2 calls %v, want one DescribeInstances, one CreateFleet and one CreateTags", calls)
	}
	if n := w.gh.TokensMinted(); n != 1 || len(jits) != 3 {
		t.Fatalf("GitHub: %d tokens minted, %d JIT configs; want 1 and 3", n, len(jits))
	}
}

func decodeJIT(t testing.TB, v string) string {
	var b []byte
	b, err := base64Decode(v)
	if err != nil {
		t.Fatalf("token is not base64: %v", err)
	}
	return string(b)
}

func TestDuplicatesLaunchOneRunner(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	first := sqsEvent(t, job(5, "linux", "octo"), job(5, "linux", "octo"), job(6, "linux", "octo"))
	if retried := w.handle(first); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	// The webhook delivered job 5 again, and SQS redelivers job 6.
	if retried := w.handle(sqsEvent(t, job(5, "linux", "octo"), job(6, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if n := len(w.live()); n != 2 {
		t.Fatalf("%d runners for 2 jobs", n)
	}
	if c := w.ec2.Calls()["CreateFleet"]; c != 1 {
		t.Fatalf("CreateFleet calls = %d, want 1", c)
	}
}

func TestMaxRunnersRetriesTheRest(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	if retried := w.handle(sqsEvent(t, job(1, "capped", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	ev := sqsEvent(t, job(4, "capped", "octo"), job(2, "capped", "octo"), job(3, "capped", "octo"))
	retried := w.handle(ev)
	// One slot left: the oldest job (2) takes it; 3 and 4 come back.
	if want := msgIDs(ev, 0, 2); !sameSet(retried, want) {
		t.Fatalf("retried %v, want %v", retried, want)
	}
	if n := len(w.live()); n != 2 {
		t.Fatalf("%d live runners, max is 2", n)
	}
	// At the cap nothing launches, and no fleet is asked for.
	before := w.ec2.Calls()["CreateFleet"]
	if retried := w.handle(sqsEvent(t, job(3, "capped", "octo"))); len(retried) != 1 || w.ec2.Calls()["CreateFleet"] != before {
		t.Fatalf("at the cap: retried %v, CreateFleet %d→%d", retried, before, w.ec2.Calls()["CreateFleet"])
	}
}

func TestAllSpotPoolsOutFailsOverToOnDemand(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	for _, it := range []string{"m7g.large", "c7g.large"} {
		for _, sn := range []string{"subnet-a", "subnet-b"} {
			w.ec2.SetDry(ec2fleet.Offering{InstanceType: it, SubnetID: sn, CapacityType: "spot"}, "InsufficientInstanceCapacity")
		}
	}
	if retried := w.handle(sqsEvent(t, job(1, "linux", "octo"), job(2, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	for _, i := range w.live() {
		if i.Lifecycle != "on-demand" {
			t.Fatalf("instance %s is %s, want on-demand", i.ID, i.Lifecycle)
		}
	}
	// The next batch knows every spot pool is dry and goes straight to on-demand.
	if retried := w.handle(sqsEvent(t, job(3, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if c := w.ec2.Calls()["CreateFleet"]; c != 3 {
		t.Fatalf("CreateFleet calls = %d, want 2 (spot, on-demand) + 1 (on-demand)", c)
	}
}

func TestThrottledLaunchIsRetried(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.ec2.FailNext("CreateFleet", "RequestLimitExceeded")
	ev := sqsEvent(t, job(1, "linux", "octo"), job(2, "linux", "octo"))
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0, 1)) {
		t.Fatalf("retried %v, want both", retried)
	}
	if n := len(w.ec2.Instances("")); n != 0 {
		t.Fatalf("%d instances launched on a throttled call", n)
	}
	w.ec2.FailNext("DescribeInstances", "RequestLimitExceeded")
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0, 1)) {
		t.Fatalf("listing throttled: retried %v, want both", retried)
	}
}

func TestRegistrationFailureTerminatesAndRetries(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.gh.FailJIT("0000000000000002", 500) // the second instance's JIT config fails
	ev := sqsEvent(t, job(30, "linux", "octo"), job(10, "linux", "octo"), job(20, "linux", "octo"))
	retried := w.handle(ev)
	// Two runners registered: jobs 10 and 20 are theirs, job 30 comes back.
	if want := msgIDs(ev, 0); !sameSet(retried, want) {
		t.Fatalf("retried %v, want %v", retried, want)
	}
	if term := w.ec2.Instances("terminated"); len(term) != 1 || !strings.HasSuffix(term[0].ID, "0000000000000002") {
		t.Fatalf("terminated %+v, want the unregistered instance", term)
	}
	if _, ok := w.ssm.snapshot()[runnertoken.Path("ghr", "linux", w.ec2.Instances("terminated")[0].ID)]; ok {
		t.Fatal("a token was stored for the unregistered instance")
	}
	// SQS redelivers job 30 (receive count 2): it gets a new instance, not the dead one.
	redelivered := sqsEvent(t, job(30, "linux", "octo"))
	redelivered.Records[0].Attributes["ApproximateReceiveCount"] = "2"
	if retried := w.handle(redelivered); len(retried) != 0 {
		t.Fatalf("redelivery retried %v", retried)
	}
	if n := len(w.live()); n != 3 {
		t.Fatalf("%d live runners for 3 jobs", n)
	}
	// Every job now counts as served: a late duplicate of any of them launches nothing.
	if retried := w.handle(sqsEvent(t, job(10, "linux", "octo"), job(20, "linux", "octo"), job(30, "linux", "octo"))); len(retried) != 0 || len(w.live()) != 3 {
		t.Fatalf("duplicates: retried %v, %d live", retried, len(w.live()))
	}
}

func TestRateLimitPausesLaunches(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.gh.LimitJIT(100)
	ev := sqsEvent(t, job(1, "linux", "octo"), job(2, "linux", "octo"))
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0, 1)) {
		t.Fatalf("retried %v, want both", retried)
	}
	if n := len(w.live()); n != 0 {
		t.Fatalf("%d unregistered instances left running", n)
	}
	// While the Retry-After runs, no instance is launched and GitHub is not called.
	fleets, jitAttempts := w.ec2.Calls()["CreateFleet"], w.gh.JITLimitLeft()
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0, 1)) {
		t.Fatalf("paused: retried %v, want both", retried)
	}
	if w.ec2.Calls()["CreateFleet"] != fleets || w.gh.JITLimitLeft() != jitAttempts {
		t.Fatal("launched or called GitHub during a rate-limit pause")
	}
}

func TestMessagesNeedingNoRunnerAreDropped(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	badVersion := job(2, "linux", "octo")
	badVersion.V = 99
	ev := sqsEvent(t, job(1, "gone", "octo"), badVersion)
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "junk", Body: "{not json"})
	if retried := w.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v: invalid and unknown-config messages must not come back", retried)
	}
	if n := len(w.ec2.Instances("")); n != 0 {
		t.Fatalf("%d instances launched", n)
	}
	if inv, unk := w.metric("JobsDropped", map[string]string{"reason": "invalid"}), w.metric("JobsDropped", map[string]string{"reason": "unknown_config", "config": "gone"}); inv != 2 || unk != 1 {
		t.Fatalf("dropped: %v invalid, %v unknown config; want 2 and 1", inv, unk)
	}
	if !strings.Contains(w.log.String(), `"level":"ERROR","msg":"invalid message dropped"`) {
		t.Fatalf("invalid messages not logged at error level:\n%s", w.log.String())
	}
}

// metric flushes the handler's metrics and sums name over the records matching match.
func (w *world) metric(name string, match map[string]string) float64 {
	w.t.Helper()
	if err := w.h.Metrics.Flush(); err != nil {
		w.t.Fatal(err)
	}
	pts, err := metrics.Read(bytes.NewReader(w.emf.Bytes()))
	if err != nil {
		w.t.Fatal(err)
	}
	return metrics.Sum(pts, name, match)
}

func TestPersistentRunners(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.gh.SetJobStatus(3, "completed")
	ev := sqsEvent(t, job(1, "persistent", "octo"), job(2, "persistent", "octo"), job(3, "persistent", "octo"))
	if retried := w.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	live := w.live()
	if len(live) != 2 {
		t.Fatalf("%d runners, want 2 (job 3 is no longer queued)", len(live))
	}
	params := w.ssm.snapshot()
	for _, i := range live {
		v := params[runnertoken.Path("ghr", "persistent", i.ID)].value
		_, reg, err := runnertoken.ParseToken(v)
		want := runnertoken.Registration{URL: "https://github.com/octo", Token: "AREG1", Name: "ghr-" + i.ID, Labels: []string{"self-hosted", "big"}, RunnerGroup: "ci"}
		if err != nil || !reflect.DeepEqual(*reg, want) {
			t.Fatalf("registration document %q (%v), want %+v", v, err, want)
		}
	}
	if w.gh.RegistrationTokens() != 1 || len(w.gh.JITConfigs()) != 0 {
		t.Fatalf("%d registration tokens and %d JIT configs; want one shared token", w.gh.RegistrationTokens(), len(w.gh.JITConfigs()))
	}
}

func TestJobLabelsSplitLaunches(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	a, b := job(1, "exact", "octo"), job(2, "exact", "octo")
	a.Labels, b.Labels = []string{"self-hosted", "gpu", "a100"}, []string{"self-hosted", "gpu"}
	repo := job(3, "exact", "octo/app")
	repo.Level, repo.Labels = queue.LevelRepo, []string{"GPU", "self-hosted", "gpu"}
	if retried := w.handle(sqsEvent(t, a, b, repo)); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if c := w.ec2.Calls()["CreateFleet"]; c != 3 {
		t.Fatalf("CreateFleet calls = %d, want one per label set and owner", c)
	}
	var got []string
	for _, c := range w.gh.JITConfigs() {
		got = append(got, c.Path+" "+strings.Join(c.Labels, ","))
	}
	slices.Sort(got)
	want := []string{
		"/orgs/octo/actions/runners/generate-jitconfig a100,gpu,self-hosted",
		"/orgs/octo/actions/runners/generate-jitconfig gpu,self-hosted",
		"/repos/octo/app/actions/runners/generate-jitconfig GPU,self-hosted", // first spelling kept, duplicates dropped
	}
	if !slices.Equal(got, want) {
		t.Fatalf("JIT calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, i := range w.live() {
		if i.Tags[tags.Owner] == "octo/app" && i.Tags[tags.Type] != "repo" {
			t.Fatalf("repo runner tagged %v", i.Tags)
		}
	}
}

func TestInvalidConfigPausesItsLaunches(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.ec2.SetDry(ec2fleet.Offering{InstanceType: "m7g.large", SubnetID: "subnet-a", CapacityType: "spot"}, "InvalidLaunchTemplateName.NotFoundException")
	ev := sqsEvent(t, job(1, "capped", "octo"))
	if retried := w.handle(ev); len(retried) != 1 {
		t.Fatalf("retried %v, want the job back", retried)
	}
	if !strings.Contains(w.log.String(), `"level":"ERROR","msg":"launch short"`) {
		t.Fatalf("invalid config not logged at error level:\n%s", w.log.String())
	}
	fleets := w.ec2.Calls()["CreateFleet"]
	if retried := w.handle(ev); len(retried) != 1 || w.ec2.Calls()["CreateFleet"] != fleets {
		t.Fatalf("second batch: retried %v, CreateFleet %d→%d; want no new call", retried, fleets, w.ec2.Calls()["CreateFleet"])
	}
	// Other configs are unaffected.
	if retried := w.handle(sqsEvent(t, job(2, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("linux retried %v", retried)
	}
}

var _ pool.Launcher = scaleup.PoolLauncher{}

func TestPoolLaunch(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	ids, err := scaleup.PoolLauncher{L: w.h.Launcher}.Launch(context.Background(), w.h.Configs["linux"], "octo", 2)
	if err != nil || len(ids) != 2 {
		t.Fatalf("Launch = %v, %v", ids, err)
	}
	for _, i := range w.live() {
		if i.Tags[tags.CreatedBy] != tags.CreatedByPool || i.Tags[tags.JobID] != "" {
			t.Fatalf("pool instance tags %v", i.Tags)
		}
		if _, ok := w.ssm.snapshot()[runnertoken.Path("ghr", "linux", i.ID)]; !ok {
			t.Fatalf("pool instance %s has no token", i.ID)
		}
	}
}

func TestClientToken(t *testing.T) {
	cfg := &config.RunnerConfig{Key: "linux"}
	g := scaleup.Group{Config: cfg, Owner: runner.Owner{Name: "octo", Level: "org"}, Jobs: []scaleup.Message{
		{Job: queue.Job{JobID: 1}, ReceiveCount: 1}, {Job: queue.Job{JobID: 2}, ReceiveCount: 1},
	}}
	tok := scaleup.ClientToken(g)
	if len(tok)+len("-on-demand") > 64 || tok != scaleup.ClientToken(g) {
		t.Fatalf("token %q: want stable and within EC2's 64 characters with its suffix", tok)
	}
	g2 := g
	g2.Jobs = slices.Clone(g.Jobs)
	g2.Jobs[1].ReceiveCount = 2
	g3 := g
	g3.Owner.Name = "other"
	if scaleup.ClientToken(g2) == tok || scaleup.ClientToken(g3) == tok {
		t.Fatal("a redelivery or another owner must get another token")
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func TestPartialFleetKeepsWhatLaunched(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	// One of four spot pools has room for one instance, the others and on-demand none.
	for _, it := range []string{"m7g.large", "c7g.large"} {
		for _, sn := range []string{"subnet-a", "subnet-b"} {
			for _, capacity := range []string{"spot", "on-demand"} {
				w.ec2.SetCapacity(ec2fleet.Offering{InstanceType: it, SubnetID: sn, CapacityType: capacity}, 0)
			}
		}
	}
	w.ec2.SetCapacity(ec2fleet.Offering{InstanceType: "c7g.large", SubnetID: "subnet-b", CapacityType: "spot"}, 1)
	ev := sqsEvent(t, job(7, "linux", "octo"), job(5, "linux", "octo"), job(6, "linux", "octo"))
	// The one runner is job 5's (lowest id); 6 and 7 come back.
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0, 2)) {
		t.Fatalf("retried %v, want jobs 6 and 7", retried)
	}
	if live := w.live(); len(live) != 1 || live[0].Tags[tags.JobID] != "5,6,7" {
		t.Fatalf("live %+v, want one instance tagged with the fleet's jobs", live)
	}
	if c := w.ec2.Calls()["CreateFleet"]; c != 2 {
		t.Fatalf("CreateFleet calls = %d, want spot then on-demand", c)
	}
	// Capacity is back and the dry-pool memory has expired: the retried jobs get runners, and
	// job 5 is not launched again.
	w.ec2.SetCapacity(ec2fleet.Offering{InstanceType: "m7g.large", SubnetID: "subnet-a", CapacityType: "on-demand"}, 10)
	w.h.Launcher.Compute.(*scaleup.EC2Compute).Fleet.Cache = ec2fleet.NewOfferingCache(time.Minute, nil)
	retry := sqsEvent(t, job(5, "linux", "octo"), job(6, "linux", "octo"), job(7, "linux", "octo"))
	for i := range retry.Records {
		retry.Records[i].Attributes["ApproximateReceiveCount"] = "2"
	}
	if retried := w.handle(retry); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if n := len(w.live()); n != 3 {
		t.Fatalf("%d runners for 3 jobs", n)
	}
}

func TestJobStatusErrorCountsAsQueued(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAlways)
	w.gh.SetJobStatus(2, "error")
	w.gh.SetJobStatus(3, "in_progress")
	ev := sqsEvent(t, job(1, "linux", "octo"), job(2, "linux", "octo"), job(3, "linux", "octo"))
	if retried := w.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if live := w.live(); len(live) != 2 || live[0].Tags[tags.JobID] != "1,2" {
		t.Fatalf("live %+v, want runners for job 1 and job 2 (status unknown)", live)
	}
}

func TestTooLittleTimeLaunchesNothing(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ev := sqsEvent(t, job(1, "linux", "octo"))
	resp, err := w.h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || w.ec2.Calls()["CreateFleet"] != 0 {
		t.Fatalf("resp %+v err %v CreateFleet %d: want the job back and no launch", resp, err, w.ec2.Calls()["CreateFleet"])
	}
}

type drainParam string

func (d drainParam) Parameter(context.Context, string) (string, error) { return string(d), nil }

// A drained config launches nothing: its jobs go back (deferred), other configs launch.
func TestDrainedConfigDefersItsJobs(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.h.Drain = &drain.Switch{Params: drainParam("linux"), Name: drain.Path("ghr")}
	ev := sqsEvent(t, job(1, "linux", "octo"), job(2, "persistent", "octo"))
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0)) {
		t.Fatalf("retried %v, want the drained config's job only", retried)
	}
	for _, i := range w.live() {
		if i.Tags[tags.RunnerConfig] == "linux" {
			t.Fatalf("launched %s for a drained config", i.ID)
		}
	}
	if n := w.metric("JobsDeferred", map[string]string{"config": "linux", "reason": "drained"}); n != 1 {
		t.Errorf("JobsDeferred{linux, drained} = %v, want 1", n)
	}
	if age := w.metric("WaitingJobAge", map[string]string{"config": "linux"}); age <= 0 {
		t.Errorf("WaitingJobAge{linux} = %v ms: the drained job's wait is not published", age)
	}
}
