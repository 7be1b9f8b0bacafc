package ops

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/tags"
)

const prefix = "ghr-t"

// world is a deployment's queues and instances in the emulator, made the way the module and
// scale-up make them.
type world struct {
	t   *testing.T
	d   *Deployment
	ec2 *ec2.Client
	sqs *sqs.Client
	cw  *cloudwatch.Client
}

// metric publishes one datum as CloudWatch would from a function's EMF line.
func (w *world) metric(namespace, name string, v float64, at time.Time, dims map[string]string) {
	// In name order, as status queries them: moto 5.2.1 compares dimension lists after a sort
	// whose order test is broken, so only lists in the same order match (CloudWatch ignores it).
	var ds []cwtypes.Dimension
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	_, err := w.cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(name), Value: aws.Float64(v), Timestamp: aws.Time(at), Dimensions: ds}}})
	if err != nil {
		w.t.Fatal(err)
	}
}

func newWorld(t *testing.T) *world {
	moto := motoserver.Start(t)
	cfg := moto.AWSConfig()
	w := &world{t: t, ec2: ec2.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
	w.cw = cloudwatch.NewFromConfig(cfg)
	w.d = &Deployment{Prefix: prefix, EC2: w.ec2, SQS: w.sqs, SSM: ssm.NewFromConfig(cfg), CloudWatch: w.cw}
	return w
}

func (w *world) queue(name string, messages int) {
	ctx := context.Background()
	q, err := w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		w.t.Fatal(err)
	}
	for range messages {
		if _, err := w.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"v":1}`)}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// instance launches one instance from launch template lt, tagged kv.
func (w *world) instance(lt string, kv map[string]string) string {
	ctx := context.Background()
	var ts []ec2types.Tag
	for k, v := range kv {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := w.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate:    &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String(lt)},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ts}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func (w *world) template(name string) {
	imgs, err := w.ec2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		w.t.Fatalf("no image in the emulator: %v", err)
	}
	_, err = w.ec2.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: imgs.Images[0].ImageId, InstanceType: ec2types.InstanceTypeM5Large},
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) url(name string) string {
	out, err := w.sqs.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func (w *world) depth(name string) int {
	qs, err := w.d.Queues(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == name {
			return q.Visible + q.InFlight
		}
	}
	w.t.Fatalf("no queue %s", name)
	return 0
}

func TestOperatorCommands(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.queue(prefix+"-build-small", 2)
	w.queue(prefix+"-build-small-dlq", 1)
	w.queue(prefix+"-lifecycle", 0)
	w.queue(prefix+"-lifecycle-dlq", 0)
	w.queue("other-build-small", 5) // another deployment's
	w.template(prefix + "-small")
	w.template("other-small")
	mine := w.instance(prefix+"-small", map[string]string{tags.Environment: prefix, tags.CreatedBy: tags.CreatedByScaleUp, tags.RunnerConfig: "small", tags.Owner: "octo", tags.JobID: "7", tags.Registered: "2026-12-01T00:00:00Z"})
	w.instance(prefix+"-small", map[string]string{tags.Environment: prefix, tags.CreatedBy: tags.CreatedByScaleUp, tags.RunnerConfig: "small", tags.Owner: "octo"})
	foreign := w.instance("other-small", map[string]string{tags.Environment: "other", tags.RunnerConfig: "small"})
	// Tagged as ours but launched from another template: a tag alone proves nothing.
	forged := w.instance("other-small", map[string]string{tags.Environment: prefix, tags.CreatedBy: tags.CreatedByScaleUp, tags.RunnerConfig: "small"})

	t.Run("status", func(t *testing.T) {
		now := time.Now()
		small := map[string]string{"deployment": prefix, "config": "small"}
		dep := map[string]string{"deployment": prefix}
		w.metric("ghr", "WaitingJobAge", 42_000, now.Add(-30*time.Second), small)
		w.metric("ghr", "WaitingJobAge", 3_600_000, now.Add(-10*time.Minute), small) // a job long started
		w.metric("ghr", "WaitingJobAge", 99_000, now, map[string]string{"deployment": "other", "config": "small"})
		w.metric("AWS/SQS", "ApproximateAgeOfOldestMessage", 7, now.Add(-time.Minute), map[string]string{"QueueName": prefix + "-build-small"})
		w.metric("ghr", "GitHubPacingWaits", 3, now.Add(-time.Minute), dep)
		w.metric("ghr", "GitHubPacingWaits", 2, now.Add(-2*time.Minute), dep)
		w.metric("ghr", "GitHubRateLimitRemaining", 4200, now.Add(-time.Minute), dep)
		w.metric("ghr", "GitHubRateLimitRemaining", 4100, now.Add(-2*time.Minute), dep)
		if _, err := w.d.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/" + prefix + "/scale-down/last-pass"), Type: "String",
			Value: aws.String(`{"at":"2026-12-01T00:00:00Z","seconds":0.5,"result":{"instances":3,"terminated":1}}`)}); err != nil {
			t.Fatal(err)
		}
		// A message scale-up holds (in flight) is a job not served yet: it still waits.
		if _, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.url(prefix + "-build-small")), VisibilityTimeout: 30}); err != nil {
			t.Fatal(err)
		}
		st, err := w.d.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if o := st.OldestWaiting; o == nil || o.Config != "small" || o.Age != 42*time.Second || o.Source != "WaitingJobAge" {
			t.Errorf("oldest waiting job = %+v, want small's 42s from WaitingJobAge", o)
		}
		if g := st.GitHub; g.PacingWaits != 5 || g.Remaining == nil || *g.Remaining != 4100 {
			t.Errorf("github = %+v, want 5 pacing waits and 4100 left", g)
		}
		if p := st.LastScaleDown; p == nil || p.Result.Terminated != 1 || p.Result.Instances != 3 {
			t.Errorf("last scale-down pass = %+v", p)
		}
		if len(st.Unread) != 0 {
			t.Errorf("unread: %v", st.Unread)
		}
		if len(st.Queues) != 4 || st.Waiting != 2 || st.DeadLetters != 1 || st.Drain != "" {
			t.Fatalf("status = %+v", st)
		}
		if len(st.Runners) != 1 || st.Runners[0].Config != "small" || st.Runners[0].Registered != 1 || st.Runners[0].Pending+st.Runners[0].Running != 2 {
			t.Fatalf("runners = %+v", st.Runners)
		}
	})
	t.Run("runners", func(t *testing.T) {
		rs, err := w.d.Runners(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 {
			t.Fatalf("%d runners, want this deployment's 2 (not the one tagged like them from another template): %+v", len(rs), rs)
		}
		for _, r := range rs {
			if r.InstanceID == forged || r.InstanceID == foreign {
				t.Errorf("listed %s, not launched from the deployment's template", r.InstanceID)
			}
			if r.InstanceID == mine && (!r.Registered || r.Jobs != "7" || r.Owner != "octo") {
				t.Errorf("runner %+v", r)
			}
		}
	})
	t.Run("drain and undrain", func(t *testing.T) {
		if s, err := w.d.Drain(ctx, "small", "large"); err != nil || s.String() != "large,small" {
			t.Fatalf("drain: %v, %v", s, err)
		}
		if s, err := w.d.Undrain(ctx, "large"); err != nil || s.String() != "small" {
			t.Fatalf("undrain: %v, %v", s, err)
		}
		st, _ := w.d.Status(ctx)
		if st.Drain != "small" || !st.Runners[0].Drained {
			t.Fatalf("status after drain: %+v", st)
		}
		if s, err := w.d.Undrain(ctx, "*"); err != nil || !s.Empty() {
			t.Fatalf("undrain all: %v, %v", s, err)
		}
		if s, err := w.d.Drained(ctx); err != nil || !s.Empty() {
			t.Fatalf("after undrain all: %v, %v", s, err)
		}
	})
	t.Run("redrive", func(t *testing.T) {
		dlq := w.url(prefix + "-build-small-dlq")
		for _, id := range []int64{1, 2} {
			body, _ := json.Marshal(queue.Job{V: queue.Version, JobID: id, RunID: 9, Repo: "octo/app", Owner: "octo", OwnerType: "Organization",
				Level: queue.LevelOrg, InstallationID: 42, Labels: []string{"self-hosted"}, DeliveryID: "d", QueuedAt: time.Now().UTC(), RunnerConfig: "small"})
			if _, err := w.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(string(body))}); err != nil {
				t.Fatal(err)
			}
		}
		stillQueued := func(_ context.Context, j queue.Job) (bool, error) { return j.JobID == 1, nil }
		dry, err := w.d.Redrive(ctx, true, stillQueued)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, r := range dry {
			actions[r.Action]++
		}
		if actions["moved"] != 1 || actions["dropped"] != 1 || actions["kept"] != 1 {
			t.Fatalf("dry run: %+v", dry)
		}
		if n := w.depth(prefix + "-build-small"); n != 2 {
			t.Fatalf("dry run changed the build queue: %d messages", n)
		}
		real, err := w.d.Redrive(ctx, false, stillQueued)
		if err != nil || len(real) != 3 {
			t.Fatalf("redrive: %+v, %v", real, err)
		}
		if n := w.depth(prefix + "-build-small"); n != 3 {
			t.Fatalf("build queue holds %d messages, want 2 + the one job still queued", n)
		}
		if n := w.depth(prefix + "-build-small-dlq"); n != 1 {
			t.Fatalf("DLQ holds %d messages, want the undecodable one", n)
		}
	})
	t.Run("protect", func(t *testing.T) {
		if err := w.d.Protect(ctx, mine, true); err != nil {
			t.Fatal(err)
		}
		st, _ := w.d.Status(ctx)
		if st.Runners[0].Protected != 1 {
			t.Fatalf("protected = %d after protect", st.Runners[0].Protected)
		}
		if err := w.d.Protect(ctx, mine, false); err != nil {
			t.Fatal(err)
		}
		if st, _ = w.d.Status(ctx); st.Runners[0].Protected != 0 {
			t.Fatalf("protected = %d after unprotect", st.Runners[0].Protected)
		}
		if err := w.d.Protect(ctx, foreign, true); !errors.Is(err, ErrNotOurs) {
			t.Errorf("protect another deployment's instance: %v, want ErrNotOurs", err)
		}
		if err := w.d.Protect(ctx, forged, true); !errors.Is(err, ErrNotOurs) {
			t.Errorf("protect an instance tagged ours but launched from another template: %v, want ErrNotOurs", err)
		}
	})
}
