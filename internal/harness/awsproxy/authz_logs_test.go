package awsproxy

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestLogWritesAreEvaluated: a runner's agent writes only to the log group its role names.
func TestLogWritesAreEvaluated(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	adm := cloudwatchlogs.NewFromConfig(w.admin)
	for _, g := range []string{"/authz/runners", "/authz/other"} {
		if _, err := adm.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	host := cloudwatchlogs.NewFromConfig(w.as("authz-logs-runner", "i-0123456789abcdef0", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"],"Resource":"arn:aws:logs:us-east-1:`+motoAccount+`:log-group:/authz/runners:*"}]}`))
	stream := aws.String("i-0123456789abcdef0/bootstrap")
	if _, err := host.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/authz/runners"), LogStreamName: stream}); err != nil {
		t.Fatalf("own group: %v", err)
	}
	if _, err := host.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/authz/runners"), LogStreamName: stream,
		LogEvents: []cwltypes.InputLogEvent{{Message: aws.String("boot"), Timestamp: aws.Int64(1)}}}); err != nil {
		t.Fatalf("own stream: %v", err)
	}
	_, err := host.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/authz/other"), LogStreamName: stream})
	wantDenied(t, "another log group", err, "AccessDeniedException")
	if n := w.p.Unevaluated()["logs:PutLogEvents"]; n != 0 {
		t.Errorf("%d PutLogEvents not evaluated", n)
	}
}
