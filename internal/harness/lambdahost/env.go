package lambdahost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const runtimePrefix = "/2018-06-01/runtime/"

// maxPayload is Lambda's synchronous invocation payload limit, request and response.
const maxPayload = 6 << 20

// invocation is one event handed to the runtime.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result // buffered(1): the runtime's answer
}

type result struct {
	out []byte
	err error
}

// env is one execution environment: a process and the Runtime API it talks to.
type env struct {
	fn      *Function
	cmd     *exec.Cmd
	srv     *http.Server
	next    chan *invocation
	exited  chan struct{}
	started time.Time
	initErr chan *FunctionError

	mu        sync.Mutex
	current   *invocation
	coldStart time.Duration // set at the first response, consumed once by the host
	coldTaken bool
	firstDone bool
}

func startEnv(ctx context.Context, fn *Function) (*env, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime api listener: %w", err)
	}
	e := &env{fn: fn, next: make(chan *invocation), exited: make(chan struct{}), initErr: make(chan *FunctionError, 1)}
	ready := make(chan struct{})
	var readyOnce sync.Once
	e.srv = &http.Server{Handler: e.handler(func() { readyOnce.Do(func() { close(ready) }) }), ReadHeaderTimeout: 5 * time.Second}
	go e.srv.Serve(ln) //nolint:errcheck // ends with Close

	e.cmd = exec.Command(fn.Path, fn.Args...)
	e.cmd.Env = e.environ(ln.Addr().String())
	e.cmd.Stdout, e.cmd.Stderr = fn.Logs, fn.Logs
	e.started = time.Now()
	if err := e.cmd.Start(); err != nil {
		e.srv.Close()
		return nil, fmt.Errorf("start %s: %w", fn.Name, err)
	}
	go func() {
		_ = e.cmd.Wait()
		close(e.exited)
	}()
	t := time.NewTimer(initTimeout)
	defer t.Stop()
	select {
	case <-ready:
		return e, nil
	case fe := <-e.initErr:
		e.stop()
		return nil, fe
	case <-e.exited:
		e.stop()
		return nil, fnError("Runtime.ExitError", "%s exited during init: %s", fn.Name, e.cmd.ProcessState)
	case <-t.C:
		e.stop()
		return nil, fnError("Sandbox.Timedout", "%s did not finish init within %s", fn.Name, initTimeout)
	case <-ctx.Done():
		e.stop()
		return nil, ctx.Err()
	}
}

// environ is what Lambda sets for a provided.al2023 function, plus the function's own
// variables. The host's environment is not inherited, as on Lambda, except PATH and HOME.
func (e *env) environ(api string) []string {
	vars := []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + e.fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(e.fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + e.fn.Name,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + dirOf(e.fn.Path),
		"TZ=:UTC",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
	}
	for k, v := range e.fn.Env {
		vars = append(vars, k+"="+v)
	}
	return vars
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}

func (e *env) handler(ready func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"invocation/next", func(w http.ResponseWriter, r *http.Request) {
		ready()
		select {
		case inv := <-e.next:
			e.mu.Lock()
			e.current = inv
			e.mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:"+e.fn.Name)
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-"+inv.id[:8]+"-"+inv.id[8:32]+";Sampled=0")
			w.Header().Set("Content-Type", "application/json")
			w.Write(inv.payload)
		case <-r.Context().Done():
		case <-e.exited:
		}
	})
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
		if err == nil && len(body) > maxPayload {
			err = fnError("Function.ResponseSizeTooLarge", "response over %d bytes", maxPayload)
		}
		e.finish(w, r.PathValue("id"), result{out: body, err: err})
	})
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		fe := &FunctionError{}
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
		if json.Unmarshal(body, fe) != nil || fe.Type == "" {
			fe = fnError("Unhandled", "%s", bytes.TrimSpace(body))
		}
		e.finish(w, r.PathValue("id"), result{err: fe})
	})
	mux.HandleFunc("POST "+runtimePrefix+"init/error", func(w http.ResponseWriter, r *http.Request) {
		fe := &FunctionError{}
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
		if json.Unmarshal(body, fe) != nil || fe.Type == "" {
			fe = fnError("Runtime.InitError", "%s", bytes.TrimSpace(body))
		}
		select {
		case e.initErr <- fe:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

func (e *env) finish(w http.ResponseWriter, id string, res result) {
	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.id != id {
		e.mu.Unlock()
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	e.current = nil
	if !e.firstDone {
		e.firstDone, e.coldStart = true, time.Since(e.started)
	}
	e.mu.Unlock()
	inv.done <- res
	w.WriteHeader(http.StatusAccepted)
}

// errNotDelivered: the environment died (after a crash or timeout in its previous
// invocation) before taking this one, which can safely go to another environment.
var errNotDelivered = errors.New("lambdahost: environment gone before delivery")

// invoke hands payload to the runtime and waits for its answer, a crash or the timeout.
// After a crash or timeout the environment is dead and the host discards it.
func (e *env) invoke(ctx context.Context, payload []byte, timeout, crashIn time.Duration, crash bool) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, fnError("RequestEntityTooLargeException", "payload over %d bytes", maxPayload)
	}
	inv := &invocation{id: newID(), payload: payload, deadline: time.Now().Add(timeout), done: make(chan result, 1)}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case e.next <- inv:
		if crash {
			time.AfterFunc(crashIn, e.kill) // injected: the runtime dies holding the event
		}
	case <-e.exited:
		return nil, errNotDelivered
	case <-t.C:
		e.kill()
		return nil, fnError("Sandbox.Timedout", "%s did not ask for work within %s", e.fn.Name, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-inv.done:
		return res.out, res.err
	case <-e.exited:
		return nil, fnError("Runtime.ExitError", "%s exited mid-invocation: %s", e.fn.Name, e.cmd.ProcessState)
	case <-t.C:
		e.kill()
		return nil, fnError("Sandbox.Timedout", "task timed out after %s", timeout)
	case <-ctx.Done():
		e.kill() // the invocation cannot be abandoned half-way in a reusable environment
		return nil, ctx.Err()
	}
}

func (e *env) alive() bool {
	select {
	case <-e.exited:
		return false
	default:
		return true
	}
}

func (e *env) kill() {
	if e.cmd.Process != nil {
		_ = e.cmd.Process.Kill()
	}
}

func (e *env) stop() {
	e.kill()
	<-e.exited
	e.srv.Close()
}

func (e *env) takeColdStart() (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.firstDone || e.coldTaken {
		return 0, false
	}
	e.coldTaken = true
	return e.coldStart, true
}

// peakRSS reads the process's high-water resident set (VmHWM) in KiB; 0 when unknown.
func (e *env) peakRSS() int64 {
	if e.cmd.Process == nil || !e.alive() {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(e.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var _ error = (*FunctionError)(nil)
