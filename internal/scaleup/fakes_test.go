package scaleup_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// testKey is generated once per test binary: a 2048-bit key takes tens of milliseconds.
var testKey = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// fakeGitHub speaks the parts of GitHub's REST API scale-up uses, with GitHub's shapes:
// installation tokens, JIT configs, registration tokens, runner groups and job status.
type fakeGitHub struct {
	t       testing.TB
	srv     *httptest.Server
	latency time.Duration

	mu           sync.Mutex
	jit          []jitCall        // every JIT config handed out
	failJIT      map[string]int   // runner name suffix → status to answer
	limitJIT     int              // answer this many JIT calls with a secondary rate limit
	jobStatus    map[int64]string // job id → status; default queued
	regTokens    int              // registration tokens handed out
	groups       map[string]int64 // runner group name → id
	tokensMinted int
}

type jitCall struct {
	Path   string
	Name   string
	Labels []string
	Group  int64
	ID     int64 // the runner id answered
}

func newFakeGitHub(t testing.TB, latency time.Duration) *fakeGitHub {
	g := &fakeGitHub{t: t, latency: latency, failJIT: map[string]int{}, jobStatus: map[int64]string{}, groups: map[string]int64{"ci": 7}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) app(tb testing.TB) *githubapp.App {
	app, err := githubapp.New(githubapp.Config{AppID: 1, PrivateKey: testKey(), APIURL: g.srv.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
	if err != nil {
		tb.Fatal(err)
	}
	return app
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	if g.latency > 0 {
		time.Sleep(g.latency)
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && len(segs) == 4 && segs[0] == "app" && segs[3] == "access_tokens":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			writeJSON(w, 401, map[string]string{"message": "A JSON web token could not be decoded"})
			return
		}
		g.tokensMinted++
		writeJSON(w, 201, map[string]any{"token": "ghs_test" + strconv.Itoa(g.tokensMinted), "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "orgs" && segs[2] == "installation":
		writeJSON(w, 200, map[string]any{"id": 99, "account": map[string]any{"login": segs[1]}})
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/actions/runners/generate-jitconfig"):
		g.jitConfig(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/actions/runners/registration-token"):
		if !g.authed(w, r) {
			return
		}
		g.regTokens++
		writeJSON(w, 201, map[string]any{"token": "AREG" + strconv.Itoa(g.regTokens), "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodGet && len(segs) == 4 && segs[0] == "orgs" && segs[3] == "runner-groups":
		var groups []map[string]any
		groups = append(groups, map[string]any{"id": 1, "name": "Default", "default": true})
		for name, id := range g.groups {
			groups = append(groups, map[string]any{"id": id, "name": name})
		}
		writeJSON(w, 200, map[string]any{"total_count": len(groups), "runner_groups": groups})
	case r.Method == http.MethodGet && len(segs) == 6 && segs[0] == "repos" && segs[4] == "jobs":
		id, _ := strconv.ParseInt(segs[5], 10, 64)
		status := g.jobStatus[id]
		if status == "" {
			status = "queued"
		}
		if status == "error" {
			writeJSON(w, 502, map[string]string{"message": "Server Error"})
			return
		}
		writeJSON(w, 200, map[string]any{"id": id, "run_id": 1, "status": status})
	default:
		writeJSON(w, 404, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	}
}

func (g *fakeGitHub) authed(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "token ghs_") {
		writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return false
	}
	return true
}

func (g *fakeGitHub) jitConfig(w http.ResponseWriter, r *http.Request) {
	if !g.authed(w, r) {
		return
	}
	var req struct {
		Name          string   `json:"name"`
		RunnerGroupID int64    `json:"runner_group_id"`
		Labels        []string `json:"labels"`
		WorkFolder    string   `json:"work_folder"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || req.Name == "" || req.RunnerGroupID == 0 || len(req.Labels) == 0 {
		writeJSON(w, 422, map[string]string{"message": "Invalid request: " + string(body)})
		return
	}
	if g.limitJIT > 0 {
		g.limitJIT--
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 403, map[string]string{"message": "You have exceeded a secondary rate limit."})
		return
	}
	for suffix, status := range g.failJIT {
		if strings.HasSuffix(req.Name, suffix) {
			writeJSON(w, status, map[string]string{"message": "Server Error"})
			return
		}
	}
	g.jit = append(g.jit, jitCall{Path: r.URL.Path, Name: req.Name, Labels: req.Labels, Group: req.RunnerGroupID, ID: int64(len(g.jit) + 1)})
	enc := base64.StdEncoding.EncodeToString([]byte(`{".runner":"` + req.Name + `"}`))
	writeJSON(w, 201, map[string]any{"runner": map[string]any{"id": len(g.jit), "name": req.Name, "status": "offline"}, "encoded_jit_config": enc})
}

func (g *fakeGitHub) jitCalls() []jitCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]jitCall(nil), g.jit...)
}

// fakeSSM is a counting, stateful SSM for the token store.
type fakeSSM struct {
	latency time.Duration

	mu     sync.Mutex
	params map[string]fakeParam
	calls  map[string]int
	fail   map[string]error // op → error for every call
}

type fakeParam struct {
	value, kmsKey string
	typ           ssmtypes.ParameterType
	tags          map[string]string
}

var _ runnertoken.API = (*fakeSSM)(nil)

func newFakeSSM(latency time.Duration) *fakeSSM {
	return &fakeSSM{latency: latency, params: map[string]fakeParam{}, calls: map[string]int{}, fail: map[string]error{}}
}

func (s *fakeSSM) enter(ctx context.Context, op string) error {
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.fail[op]
}

func (s *fakeSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if err := s.enter(ctx, "PutParameter"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := aws.ToString(in.Name)
	if _, ok := s.params[name]; ok && !aws.ToBool(in.Overwrite) {
		return nil, &ssmtypes.ParameterAlreadyExists{Message: aws.String(name)}
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	s.params[name] = fakeParam{value: aws.ToString(in.Value), kmsKey: aws.ToString(in.KeyId), typ: in.Type, tags: tags}
	return &ssm.PutParameterOutput{Version: 1}, nil
}

func (s *fakeSSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	if err := s.enter(ctx, "DeleteParameter"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.params[aws.ToString(in.Name)]; !ok {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	delete(s.params, aws.ToString(in.Name))
	return &ssm.DeleteParameterOutput{}, nil
}

func (s *fakeSSM) DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, _ ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error) {
	if err := s.enter(ctx, "DeleteParameters"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ssm.DeleteParametersOutput{}
	for _, n := range in.Names {
		if _, ok := s.params[n]; ok {
			delete(s.params, n)
			out.DeletedParameters = append(out.DeletedParameters, n)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func (s *fakeSSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	if err := s.enter(ctx, "DescribeParameters"); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("fake ssm: DescribeParameters is not used by scale-up")
}

func (s *fakeSSM) snapshot() map[string]fakeParam {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.params)
}

func (s *fakeSSM) totalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// sqsEvent builds a batch; receive counts default to 1.
func sqsEvent(t testing.TB, jobs ...queue.Job) events.SQSEvent {
	var ev events.SQSEvent
	for i, j := range jobs {
		body, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m%d-%d", i, j.JobID), Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

func job(id int64, cfg, owner string) queue.Job {
	return queue.Job{
		V: queue.Version, JobID: id, RunID: 1000 + id, Repo: owner + "/app", Owner: owner, OwnerType: "Organization",
		Level: queue.LevelOrg, InstallationID: 42, Labels: []string{"self-hosted", "linux"}, DeliveryID: "d-" + strconv.FormatInt(id, 10),
		QueuedAt: time.Unix(1_700_000_000+id, 0).UTC(), RunnerConfig: cfg,
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
