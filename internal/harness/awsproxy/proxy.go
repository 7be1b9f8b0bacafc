// Package awsproxy sits between ghr's functions and the AWS emulator: it counts every call
// by service and action (the sandbox's "AWS calls per job"), evaluates IAM for each role's
// calls on resource ARNs and condition keys (authz.go), enforces the AWS limits the emulator
// lacks (SSM Parameter Store tiers, counts and throughput: ssm.go), and can inject
// the faults AWS produces under load (throttling, insufficient capacity), so the real
// binaries meet them.
package awsproxy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/iameval"
)

// maxInspect bounds how much of a request body is read to find the action.
const maxInspect = 1 << 20

// Fault makes a share of one action's calls fail with an AWS error.
type Fault struct {
	Rate    float64 // 0..1
	Status  int     // HTTP status, e.g. 503 or 400
	Code    string  // AWS error code, e.g. RequestLimitExceeded
	Message string
	// Match restricts the fault to requests whose body contains this string (e.g. one
	// instance type of a CreateFleet); "" matches all.
	Match string
	// Body, when set, is answered verbatim (with Status, default 200) instead of an error
	// document: for faults AWS reports inside a successful answer, like CreateFleet's errors.
	Body string
}

// SpotCapacityOutage makes every spot CreateFleet answer "no capacity" the way EC2 does for
// an instant fleet: HTTP 200, no instances, InsufficientInstanceCapacity in its error set.
func SpotCapacityOutage(rate float64) (string, Fault) {
	return "ec2:CreateFleet", Fault{Rate: rate, Match: "DefaultTargetCapacityType=spot", Body: `<?xml version="1.0" encoding="UTF-8"?>
<CreateFleetResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sandbox</requestId><fleetId>fleet-00000000-0000-4000-8000-000000000000</fleetId><errorSet><item><errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>There is no Spot capacity available that matches your request.</errorMessage><lifecycle>spot</lifecycle></item></errorSet><fleetInstanceSet/></CreateFleetResponse>`}
}

// Proxy is an http.Handler forwarding to the emulator.
type Proxy struct {
	target *url.URL
	rp     *httputil.ReverseProxy

	mu       sync.Mutex
	calls    map[string]int // "ec2:CreateFleet" → n
	injected map[string]int
	faults   map[string]Fault
	limited  map[string]int
	rng      *rand.Rand
	ssm      *ssmRules
	roles    map[string]caller // access key id → role session (Credentials)
	doomed   map[string]string // instance id → state reason code, for launches AWS would fail

	lambdaQuota atomic.Int32 // Lambda concurrent executions; 0: DefaultLambdaConcurrency (account.go)

	evalOnce    sync.Once
	eval        *iameval.Evaluator
	evalErr     error
	memos       map[string]memoEntry // policies read from the emulator (lookup.go)
	unevaluated map[string]int
	denied      map[string]int
	deniedBy    map[string]map[string]int // role ARN → action → refusals
	log         *slog.Logger              // IAM refusals, when set
}

// New proxies to target (the emulator's URL). seed makes fault injection reproducible.
func New(target string, seed uint64) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("awsproxy: target %q: %w", target, err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// Callers that vanish mid-call (crash injection kills functions) are expected; the
	// caller sees its own error, so the proxy need not log it.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	return &Proxy{
		target: u, rp: rp,
		calls: map[string]int{}, injected: map[string]int{}, faults: map[string]Fault{}, limited: map[string]int{},
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ssm: newSSMRules(SSMLimits{}, time.Now), roles: map[string]caller{}, doomed: map[string]string{},
		memos: map[string]memoEntry{}, unevaluated: map[string]int{}, denied: map[string]int{}, deniedBy: map[string]map[string]int{},
	}, nil
}

// SetSSMLimits replaces the Parameter Store limits (zero fields: AWS's defaults) and forgets
// the parameters seen so far; for tests that reach a limit without AWS's numbers of calls.
func (p *Proxy) SetSSMLimits(l SSMLimits) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ssm = newSSMRules(l, time.Now)
}

// Limited returns the calls refused by an enforced AWS limit, by "action code".
func (p *Proxy) Limited() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.limited)
}

// SetFault injects f on action ("ec2:CreateFleet", or "ec2:*" for every EC2 action without
// a fault of its own); a zero Rate removes it.
func (p *Proxy) SetFault(action string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Rate <= 0 {
		delete(p.faults, action)
		return
	}
	p.faults[action] = f
}

// Calls returns the calls forwarded or failed, by action.
func (p *Proxy) Calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.calls)
}

// Injected returns the faults injected, by action.
func (p *Proxy) Injected() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.injected)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInspect))
	if err != nil {
		http.Error(w, "read body", http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	action := Action(r, body)
	p.mu.Lock()
	p.calls[action]++
	f, ok := p.faults[action]
	if !ok {
		service, _, _ := strings.Cut(action, ":")
		f, ok = p.faults[service+":*"] // a fault on every action of the service
	}
	inject := ok && (f.Match == "" || bytes.Contains(body, []byte(f.Match))) && p.rng.Float64() < f.Rate
	if inject {
		p.injected[action]++
	}
	rules := p.ssm
	p.mu.Unlock()
	if inject {
		writeFault(w, action, f)
		return
	}
	who, signed := p.callerOf(r)
	if signed && !p.authorize(w, r, body, action, who) {
		return
	}
	if p.ec2Owned(w, r, body, action) { // ec2owned.go
		return
	}
	if p.serveAccount(w, r, action, body) { // account.go
		return
	}
	switch {
	case signed && (action == "ec2:CreateFleet" || action == "ec2:RunInstances"):
		p.launch(w, r, body, who)
		return
	case action == "ec2:DescribeInstances" && p.anyDoomed():
		p.describeInstances(w, r)
		return
	case !strings.HasPrefix(action, "ssm:"):
		p.rp.ServeHTTP(w, r)
		return
	}
	limit, tier := rules.check(action, body)
	if limit != nil {
		p.mu.Lock()
		p.limited[action+" "+limit.Code]++
		p.mu.Unlock()
		writeFault(w, action, *limit)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	p.rp.ServeHTTP(sw, r)
	if sw.status == http.StatusOK {
		rules.wrote(action, body, tier)
	}
}

func (p *Proxy) anyDoomed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.doomed) > 0
}

// statusWriter remembers the emulator's status so a limit counts only calls that succeeded.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Action names a request as "service:Action": from X-Amz-Target for JSON protocols (SQS,
// SSM), from the Action form field for query protocols (EC2, IAM), else from the SigV4
// credential scope and the method and path (S3, Lambda).
func Action(r *http.Request, body []byte) string {
	service := "unknown"
	if auth := r.Header.Get("Authorization"); auth != "" {
		// Credential=AKID/20260101/us-east-1/ec2/aws4_request
		if i := strings.Index(auth, "Credential="); i >= 0 {
			parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
			if len(parts) >= 4 {
				service = parts[3]
			}
		}
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if _, op, ok := strings.Cut(t, "."); ok {
			return service + ":" + op
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return service + ":" + v.Get("Action")
		}
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return service + ":" + a
	}
	return service + ":" + r.Method + " " + firstSegment(r.URL.Path)
}

func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return "/" + p[:i]
	}
	return "/" + p
}

// writeFault answers in the protocol the caller expects: EC2's query XML or the JSON error
// shape of SQS and SSM.
func writeFault(w http.ResponseWriter, action string, f Fault) {
	if f.Body != "" {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(cmp.Or(f.Status, http.StatusOK))
		io.WriteString(w, f.Body)
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	msg := f.Message
	if msg == "" {
		msg = "injected by the sandbox"
	}
	if strings.HasPrefix(action, "ec2:") {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>sandbox</RequestID></Response>`, f.Code, msg)
		return
	}
	ct := "application/x-amz-json-1.0" // SQS
	if strings.HasPrefix(action, "ssm:") {
		ct = "application/x-amz-json-1.1"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Amzn-Query-Error", f.Code+";Sender")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": f.Code, "message": msg}) // two strings always marshal
	w.Write(b)
}
