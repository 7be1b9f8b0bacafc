package cwagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// maxEventsPerPut is PutLogEvents' batch limit.
const maxEventsPerPut = 10000

// LogsAPI is what shipping needs of CloudWatch Logs.
type LogsAPI interface {
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// Shipper tails the configured files (paths resolved under Root, the host's file system)
// and sends new whole lines.
type Shipper struct {
	API        LogsAPI
	Root       string
	InstanceID string
	Hostname   string
	Files      []File
	Now        func() time.Time

	offsets map[string]int64
	streams map[string]bool
}

// Flush ships every whole line written since the last flush, file by file.
func (s *Shipper) Flush(ctx context.Context) error {
	if s.offsets == nil {
		s.offsets, s.streams = map[string]int64{}, map[string]bool{}
	}
	var errs []error
	for _, f := range s.Files {
		paths, err := filepath.Glob(filepath.Join(s.Root, f.FilePath))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range paths {
			errs = append(errs, s.flushFile(ctx, f, p))
		}
	}
	return errors.Join(errs...)
}

func (s *Shipper) flushFile(ctx context.Context, f File, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if _, err := fh.Seek(s.offsets[path], io.SeekStart); err != nil {
		return err
	}
	now := s.Now().UnixMilli()
	var events []types.InputLogEvent
	r := bufio.NewReader(fh)
	read := s.offsets[path]
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // a partial last line waits for its newline
		}
		read += int64(len(line))
		if len(line) > 1 {
			events = append(events, types.InputLogEvent{Message: aws.String(line[:len(line)-1]), Timestamp: aws.Int64(now)})
		}
	}
	if len(events) == 0 {
		s.offsets[path] = read
		return nil
	}
	stream := StreamName(f.LogStreamName, s.InstanceID, s.Hostname)
	key := f.LogGroupName + "\x00" + stream
	if !s.streams[key] {
		_, err := s.API.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &f.LogGroupName, LogStreamName: &stream})
		var exists *types.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log stream %s in %s: %w", stream, f.LogGroupName, err)
		}
		s.streams[key] = true
	}
	for start := 0; start < len(events); start += maxEventsPerPut {
		batch := events[start:min(start+maxEventsPerPut, len(events))]
		if _, err := s.API.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &f.LogGroupName, LogStreamName: &stream, LogEvents: batch}); err != nil {
			return fmt.Errorf("put %d log events to %s: %w", len(batch), f.LogGroupName, err)
		}
	}
	s.offsets[path] = read
	return nil
}
