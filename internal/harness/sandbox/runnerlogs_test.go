package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// failedBootWait bounds a failing boot: the download fails within seconds, then the boot
// waits the module's 10 s power-off delay for the agent's last flush.
const failedBootWait = 3 * time.Minute

// failedBootLogReachesTheLogGroup: a boot that cannot get the runner (a corrupt archive in
// the dist bucket) powers its instance off, and its log is in the deployment's runner log
// group after the instance is gone, shipped by the agent the boot installed, with the runner
// role's own credentials and the module's agent configuration.
func failedBootLogReachesTheLogGroup(t *testing.T, sb *Sandbox) {
	ctx := context.Background()
	cfg := motoproc.HarnessConfig(sb.Moto)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := distBucket(t, sb, s3c)
	key := "actions-runner-linux-" + map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH] + ".tar.gz"
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	put := func(body []byte) {
		t.Helper()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body), Metadata: obj.Metadata}); err != nil {
			t.Fatal(err)
		}
	}
	put(archive[:len(archive)/2])
	defer put(archive)

	booted := len(sb.Hosts.BootStats())
	job, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: simRepos[0], Labels: SmallLabels, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Sim.CancelJob(job.ID) //nolint:errcheck // its host failed on purpose: nothing will run it
	var failed BootStat
	deadline := time.Now().Add(failedBootWait)
	for failed.InstanceID == "" && time.Now().Before(deadline) {
		for _, b := range sb.Hosts.BootStats()[booted:] {
			if b.PoweredOff && strings.Contains(b.Log, "could not get the runner") {
				failed = b
			}
		}
		time.Sleep(time.Second)
	}
	if failed.InstanceID == "" {
		t.Fatalf("no boot failed on the corrupt archive within %s", failedBootWait)
	}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	group, stream := "/"+sb.Opts.Prefix+"/runners", failed.InstanceID+"/bootstrap"
	var got []string
	for time.Now().Before(deadline) {
		out, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: &group, LogStreamName: &stream, StartFromHead: aws.Bool(true)})
		if err == nil {
			got = got[:0]
			for _, e := range out.Events {
				got = append(got, aws.ToString(e.Message))
			}
			if text := strings.Join(got, "\n"); strings.Contains(text, "bootstrap failed") && strings.Contains(text, "powering off") {
				staleTokenRemoved(t, sb, failed.InstanceID, deadline)
				return
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("%s %s holds %d lines without the failure and the power-off:\n%s\nboot log:\n%s", group, stream, len(got), strings.Join(got, "\n"), failed.Log)
}

// staleTokenRemoved deletes the token the failed host never read, so the scenarios after
// this one start without a leftover: scale-down would delete it only after tokenGrace (15
// minutes), longer than the suite.
func staleTokenRemoved(t *testing.T, sb *Sandbox, instanceID string, _ time.Time) {
	t.Helper()
	c := ssm.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	name := runnertoken.Path(sb.Opts.Prefix, "small", instanceID)
	_, err := c.DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: &name})
	var nf *ssmtypes.ParameterNotFound
	if err != nil && !errors.As(err, &nf) {
		t.Fatalf("delete the failed host's token %s: %v", name, err)
	}
}

// distBucket is the deployment's dist bucket, where the syncer put the runner archives.
func distBucket(t *testing.T, sb *Sandbox, c *s3.Client) string {
	t.Helper()
	out, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range out.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), sb.Opts.Prefix+"-dist-") {
			return aws.ToString(b.Name)
		}
	}
	t.Fatalf("no %s-dist-* bucket", sb.Opts.Prefix)
	return ""
}
