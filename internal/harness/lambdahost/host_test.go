package lambdahost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// The test binary doubles as the Lambda function: with testFunctionEnv set it runs
// lambda.Start, exactly as a deployed bootstrap would.
const testFunctionEnv = "LAMBDAHOST_TEST_FUNCTION"

type command struct {
	Do      string `json:"do"`
	SleepMS int    `json:"sleep_ms"`
	Records []any  `json:"Records"`
}

func TestMain(m *testing.M) {
	switch os.Getenv(testFunctionEnv) {
	case "":
		os.Exit(m.Run())
	case "init-fail":
		fmt.Fprintln(os.Stderr, "invalid configuration: PREFIX is required")
		os.Exit(1)
	default:
		lambda.Start(testHandler)
	}
}

func testHandler(ctx context.Context, raw json.RawMessage) (any, error) {
	var c command
	_ = json.Unmarshal(raw, &c)
	if c.Records != nil {
		var ev events.SQSEvent
		_ = json.Unmarshal(raw, &ev)
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if strings.Contains(r.Body, "fail") {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	var http events.APIGatewayV2HTTPRequest
	if json.Unmarshal(raw, &http) == nil && http.RouteKey != "" {
		if ms, err := strconv.Atoi(http.Headers["x-test-sleep-ms"]); err == nil {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 202, Headers: map[string]string{"X-Seen-Method": http.RequestContext.HTTP.Method},
			Body: http.Headers["x-github-event"] + ":" + http.Body}, nil
	}
	switch c.Do {
	case "error":
		return nil, errors.New("handler said no")
	case "panic":
		panic("boom")
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Duration(c.SleepMS) * time.Millisecond)
	case "env":
		return os.Getenv("GHR_TEST_VALUE") + "|" + os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), nil
	}
	return map[string]string{"echo": c.Do}, nil
}

func testHost(t *testing.T, mode string, mutate ...func(*Function)) *Host {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fn := Function{Name: "test-fn", Path: self, Env: map[string]string{testFunctionEnv: mode, "GHR_TEST_VALUE": "v1"},
		Timeout: 5 * time.Second, Logs: io.Discard}
	for _, m := range mutate {
		m(&fn)
	}
	h := New(fn)
	t.Cleanup(h.Close)
	return h
}

func invoke(t *testing.T, h *Host, c command) ([]byte, error) {
	t.Helper()
	b, _ := json.Marshal(c)
	return h.Invoke(context.Background(), b)
}

func TestWarmReuseAndEnvironment(t *testing.T) {
	h := testHost(t, "run")
	for i := range 3 {
		out, err := invoke(t, h, command{Do: "hello"})
		if err != nil || string(out) != `{"echo":"hello"}` {
			t.Fatalf("invocation %d = %s, %v", i, out, err)
		}
	}
	out, err := invoke(t, h, command{Do: "env"})
	if err != nil || string(out) != `"v1|test-fn"` {
		t.Fatalf("env = %s, %v", out, err)
	}
	s := h.Stats()
	if s.Invocations != 4 || len(s.ColdStarts) != 1 || s.ColdStarts[0] <= 0 || s.PeakRSSKB <= 0 {
		t.Fatalf("stats = %+v: want 4 invocations on one warm environment with a cold start and RSS", s)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		do       string
		wantType string
	}{
		{"error", "errorString"},
		{"panic", "string"}, // aws-lambda-go reports a panic's value type
		{"exit", "Runtime.ExitError"},
	}
	for _, tt := range tests {
		t.Run(tt.do, func(t *testing.T) {
			h := testHost(t, "run")
			_, err := invoke(t, h, command{Do: tt.do})
			var fe *FunctionError
			if !errors.As(err, &fe) || fe.Type != tt.wantType {
				t.Fatalf("err = %#v, want FunctionError of type %s", err, tt.wantType)
			}
			if out, err := invoke(t, h, command{Do: "again"}); err != nil || !bytes.Contains(out, []byte("again")) {
				t.Fatalf("the host must recover after %s: %s, %v", tt.do, out, err)
			}
		})
	}
}

func TestTimeoutKillsTheEnvironment(t *testing.T) {
	h := testHost(t, "run", func(f *Function) { f.Timeout = 300 * time.Millisecond })
	_, err := invoke(t, h, command{Do: "sleep", SleepMS: 5000})
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("err = %v, want Sandbox.Timedout", err)
	}
	if _, err := invoke(t, h, command{Do: "quick"}); err != nil {
		t.Fatalf("after timeout: %v", err)
	}
	if n := len(h.Stats().ColdStarts); n != 1 {
		// The timed-out environment never answered, so only the replacement's cold start counts.
		t.Fatalf("cold starts = %d, want 1", n)
	}
}

func TestInitFailure(t *testing.T) {
	h := testHost(t, "init-fail")
	_, err := invoke(t, h, command{Do: "x"})
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" || !strings.Contains(fe.Message, "during init") {
		t.Fatalf("err = %v, want an init exit error", err)
	}
}

func TestConcurrencyLimitThrottles(t *testing.T) {
	h := testHost(t, "run", func(f *Function) { f.Concurrency = 2 })
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := invoke(t, h, command{Do: "sleep", SleepMS: 700})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	throttled := 0
	for err := range errs {
		if errors.Is(err, ErrThrottled) {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled != 1 || h.Stats().Throttles != 1 {
		t.Fatalf("throttled = %d (stats %+v), want exactly 1 of 3 with a limit of 2", throttled, h.Stats())
	}
}

func TestCrashInjection(t *testing.T) {
	h := testHost(t, "run", func(f *Function) { f.CrashRate = 1 })
	_, err := invoke(t, h, command{Do: "sleep", SleepMS: 200})
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" || h.Stats().Crashes != 1 {
		t.Fatalf("err = %v, crashes %d: want the process killed mid-invocation", err, h.Stats().Crashes)
	}
}
