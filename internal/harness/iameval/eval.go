// Package iameval decides IAM requests for the sandbox with a well-kept evaluator:
// @cloud-copilot/iam-simulate (identity and resource policies, KMS key policies, every
// condition operator, same- and cross-account rules), run as a Node process beside the AWS
// proxy. It is harness only: nothing in the product depends on it.
//
// The Node package is pinned by package-lock.json in this directory and installed with
// `npm ci` (scripts/check-tools.sh, so `make test` does it on a fresh clone).
package iameval

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// Decisions as IAM names them.
const (
	Allowed          Decision = "Allowed"
	ImplicitlyDenied Decision = "ImplicitlyDenied"
	ExplicitlyDenied Decision = "ExplicitlyDenied"
)

// maxCached bounds the decision cache; a sandbox run asks a few hundred distinct questions,
// so the bound only guards against a caller that puts unique values in every request.
const maxCached = 20000

// Decision is the evaluator's answer for one request.
type Decision string

// Policy is a named policy document (JSON).
type Policy struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"policy"`
}

// Request is one action on one resource by one principal.
type Request struct {
	// Principal is the caller's ARN: an assumed-role session
	// (arn:aws:sts::111122223333:assumed-role/name/session) matches key policies naming the role.
	Principal string `json:"principal"`
	Action    string `json:"action"`   // "ssm:GetParameter"
	Resource  string `json:"resource"` // the resource's ARN, or "*" for actions without resource types
	Account   string `json:"account"`  // the resource's account
	// Context holds the request's condition keys (aws:TagKeys, ec2:ResourceTag/Name, …).
	Context        map[string][]string `json:"context"`
	Identity       []Policy            `json:"identity"`
	Boundary       []Policy            `json:"boundary,omitempty"`       // the role's permissions boundary
	ResourcePolicy json.RawMessage     `json:"resourcePolicy,omitempty"` // KMS key, SQS queue or S3 bucket policy
}

// Result is a decision and the context keys the evaluator dropped because the action does not
// take them (a key the caller expected to matter shows up here).
type Result struct {
	Decision Decision
	Ignored  []string
}

type wire struct {
	ID int64 `json:"id"`
	*Request
}

type answer struct {
	ID       int64    `json:"id"`
	Decision Decision `json:"decision"`
	Ignored  []string `json:"ignored"`
	Error    string   `json:"error"`
}

// Evaluator is one Node process; it is safe for concurrent use.
type Evaluator struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the process's output ends
	err   error         // why, set before done closes

	mu      sync.Mutex
	next    int64
	pending map[int64]chan answer
	cache   map[[32]byte]Result
	asked   int // evaluations sent to the process, for the benchmark and tests
}

// Dir is where server.mjs and its node_modules live: $GHR_IAMEVAL_DIR, else this package's
// source directory.
func Dir() string {
	if d := os.Getenv("GHR_IAMEVAL_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Start runs the evaluator. It fails with how to fix it when node or the pinned package is
// missing: the sandbox never runs without IAM evaluation.
func Start() (*Evaluator, error) {
	dir := Dir()
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("iameval: node is not on PATH: install Node.js 18 or newer (Debian: apt-get install nodejs npm), then run bash scripts/check-tools.sh")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		return nil, fmt.Errorf("iameval: @cloud-copilot/iam-simulate is not installed in %s: run bash scripts/check-tools.sh (npm ci there)", dir)
	}
	cmd := exec.Command(node, filepath.Join(dir, "server.mjs"))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("iameval: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("iameval: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("iameval: start node: %w", err)
	}
	e := &Evaluator{cmd: cmd, stdin: stdin, done: make(chan struct{}), pending: map[int64]chan answer{}, cache: map[[32]byte]Result{}}
	go e.read(stdout)
	return e, nil
}

func (e *Evaluator) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var a answer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			continue
		}
		e.mu.Lock()
		ch := e.pending[a.ID]
		delete(e.pending, a.ID)
		e.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
	e.err = fmt.Errorf("iameval: evaluator exited: %v", cmp(sc.Err(), e.cmd.Wait()))
	close(e.done)
}

func cmp(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return errors.New("end of output")
}

// Evaluate decides req. Identical requests (same policies, context and all) are answered from
// a cache, so a sandbox pays the evaluator's few milliseconds once per distinct question.
func (e *Evaluator) Evaluate(ctx context.Context, req Request) (Result, error) {
	if req.Context == nil {
		req.Context = map[string][]string{}
	}
	line, err := json.Marshal(wire{Request: &req})
	if err != nil {
		return Result{}, fmt.Errorf("iameval: %w", err)
	}
	key := sha256.Sum256(line)
	ch := make(chan answer, 1)
	e.mu.Lock()
	if r, ok := e.cache[key]; ok {
		e.mu.Unlock()
		return r, nil
	}
	e.next++
	id := e.next
	e.pending[id] = ch
	e.asked++
	line, _ = json.Marshal(wire{ID: id, Request: &req}) // marshalled once above
	_, err = e.stdin.Write(append(line, '\n'))          // under mu: lines never interleave
	e.mu.Unlock()
	if err != nil {
		return Result{}, fmt.Errorf("iameval: send: %w", err)
	}
	select {
	case a := <-ch:
		if a.Error != "" {
			return Result{}, fmt.Errorf("iameval: %s on %s: %s", req.Action, req.Resource, a.Error)
		}
		r := Result{Decision: a.Decision, Ignored: a.Ignored}
		e.mu.Lock()
		if len(e.cache) >= maxCached {
			clear(e.cache)
		}
		e.cache[key] = r
		e.mu.Unlock()
		return r, nil
	case <-e.done:
		return Result{}, e.err
	case <-ctx.Done():
		e.mu.Lock()
		delete(e.pending, id)
		e.mu.Unlock()
		return Result{}, ctx.Err()
	}
}

// Asked is how many requests reached the Node process (the rest came from the cache).
func (e *Evaluator) Asked() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.asked
}

// Close stops the process.
func (e *Evaluator) Close() error {
	e.stdin.Close()
	<-e.done
	return nil
}
