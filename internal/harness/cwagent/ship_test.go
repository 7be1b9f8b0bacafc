package cwagent_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/ghr-dev/ghr/internal/harness/cwagent"
)

// fakeLogs is a small CloudWatch Logs: streams must exist before events are put.
type fakeLogs struct {
	mu      sync.Mutex
	streams map[string][]string
}

func (f *fakeLogs) CreateLogStream(_ context.Context, in *cloudwatchlogs.CreateLogStreamInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := aws.ToString(in.LogGroupName) + "/" + aws.ToString(in.LogStreamName)
	if _, ok := f.streams[k]; ok {
		return nil, &types.ResourceAlreadyExistsException{Message: aws.String(k)}
	}
	f.streams[k] = nil
	return &cloudwatchlogs.CreateLogStreamOutput{}, nil
}

func (f *fakeLogs) PutLogEvents(_ context.Context, in *cloudwatchlogs.PutLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := aws.ToString(in.LogGroupName) + "/" + aws.ToString(in.LogStreamName)
	if _, ok := f.streams[k]; !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String(k)}
	}
	for _, e := range in.LogEvents {
		f.streams[k] = append(f.streams[k], aws.ToString(e.Message))
	}
	return &cloudwatchlogs.PutLogEventsOutput{}, nil
}

// TestShipperSendsEachWholeLineOnce: lines are shipped once, a partial line waits for its
// newline, and the stream is named from the instance.
func TestShipperSendsEachWholeLineOnce(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/log"), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(root, "var/log/ghr-bootstrap.log")
	if err := os.WriteFile(logPath, []byte("one\ntwo\nthr"), 0o644); err != nil {
		t.Fatal(err)
	}
	api := &fakeLogs{streams: map[string][]string{}}
	s := &cwagent.Shipper{API: api, Root: root, InstanceID: "i-0abc", Now: time.Now,
		Files: []cwagent.File{{FilePath: "/var/log/ghr-bootstrap.log", LogGroupName: "/ghr/runners", LogStreamName: "{instance_id}/bootstrap"}}}
	ctx := context.Background()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("ee\nfour\n")
	f.Close()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := api.streams["/ghr/runners/i-0abc/bootstrap"]
	if want := []string{"one", "two", "three", "four"}; !slices.Equal(got, want) {
		t.Fatalf("shipped %q, want %q", got, want)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		ok         bool
	}{
		{"valid", `{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/var/log/x","log_group_name":"/g"}]}}}}`, true},
		{"no files", `{"logs":{}}`, false},
		{"no group", `{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/var/log/x"}]}}}}`, false},
		{"not json", `{`, false},
	} {
		if _, err := cwagent.ParseConfig([]byte(tc.json)); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if got := cwagent.StreamName("", "i-1", "h"); got != "i-1" {
		t.Errorf("default stream %q, want the instance id", got)
	}
}
