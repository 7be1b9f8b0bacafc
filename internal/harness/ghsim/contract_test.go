package ghsim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/ghsim/oapi"
)

// The contract test validates every operation's answers, and every webhook payload, against
// GitHub's OpenAPI description (the extract in testdata/openapi.json). Strict mode also
// rejects properties the description does not declare: a misspelt field fails here.

func loadDoc(t *testing.T) *oapi.Doc {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := oapi.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type contract struct {
	t       *testing.T
	doc     *oapi.Doc
	srv     *Server
	covered map[string]bool
}

// check makes a call and validates its answer against op's schema for the answer's status.
func (c *contract) check(op, method, path, auth string, body any, want int) answer {
	c.t.Helper()
	a := call(c.t, c.srv, method, path, auth, body)
	if a.status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, a.status, want, a.body)
	}
	o := c.doc.Operations[op]
	if o == nil {
		c.t.Fatalf("operation %q is not in the extract", op)
	}
	schema, documented := o.Responses[strconv.Itoa(a.status)]
	if !documented {
		c.t.Fatalf("%s %s: status %d is not documented for %s", method, path, a.status, op)
	}
	c.covered[op] = true
	if schema == nil {
		if len(a.body) != 0 && a.status != http.StatusFound {
			c.t.Errorf("%s %s: %d should have no body, got %s", method, path, a.status, a.body)
		}
		return a
	}
	if fix, ok := descriptionQuirks[op+" "+strconv.Itoa(a.status)]; ok {
		schema = fix
	}
	for _, e := range c.doc.Validate(a.body, schema, oapi.Options{Strict: true}) {
		c.t.Errorf("%s %s (%d): %s", method, path, a.status, e)
	}
	if o.Request != nil && body != nil && a.status < 300 {
		b, _ := json.Marshal(body)
		for _, e := range c.doc.Validate(b, o.Request, oapi.Options{}) {
			c.t.Errorf("test request of %s does not fit GitHub's schema: %s", op, e)
		}
	}
	return a
}

// descriptionQuirks replace schemas where GitHub's description contradicts GitHub itself.
// GET /app/installations inlines an old copy of the installation schema whose account is
// allOf [simple-user, enterprise]: no account can be both (a user has no slug, an
// enterprise no login); every other installation answer uses the installation component,
// whose account is anyOf of the two.
var descriptionQuirks = map[string]*oapi.Schema{
	"GET /app/installations 200": {Type: "array", Items: &oapi.Schema{Ref: "#/components/schemas/installation"}},
}

func TestContractREST(t *testing.T) {
	doc := loadDoc(t)
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL, WebhookSecret: "x"})
	w := seed(t, srv.Sim)
	c := &contract{t: t, doc: doc, srv: srv, covered: map[string]bool{}}
	jwt := validJWT(t, srv)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	c.check("GET /app/installations", "GET", "/app/installations?per_page=2", jwt, nil, 200)
	c.check("GET /app/installations/{installation_id}", "GET", "/app/installations/"+id(w.octo.ID), jwt, nil, 200)
	c.check("GET /app/installations/{installation_id}", "GET", "/app/installations/999", jwt, nil, 404)
	tokA := c.check("POST /app/installations/{installation_id}/access_tokens", "POST", "/app/installations/"+id(w.octo.ID)+"/access_tokens", jwt, nil, 201)
	var tk struct{ Token string }
	tokA.decode(t, &tk)
	octo := tk.Token
	c.check("POST /app/installations/{installation_id}/access_tokens", "POST", "/app/installations/999/access_tokens", jwt, nil, 404)
	c.check("GET /orgs/{org}/installation", "GET", "/orgs/octo/installation", jwt, nil, 200)
	c.check("GET /repos/{owner}/{repo}/installation", "GET", "/repos/alice/tools/installation", jwt, nil, 200)
	c.check("GET /repos/{owner}/{repo}/installation", "GET", "/repos/octo/nope/installation", jwt, nil, 404)
	c.check("GET /users/{username}/installation", "GET", "/users/alice/installation", jwt, nil, 200)

	jitOp := "POST /orgs/{org}/actions/runners/generate-jitconfig"
	jit := c.check(jitOp, "POST", "/orgs/octo/actions/runners/generate-jitconfig", octo,
		map[string]any{"name": "j1", "runner_group_id": 1, "labels": []string{"self-hosted", "linux"}, "work_folder": "_work"}, 201)
	c.check(jitOp, "POST", "/orgs/octo/actions/runners/generate-jitconfig", octo,
		map[string]any{"name": "j1", "runner_group_id": 1, "labels": []string{"self-hosted"}}, 409)
	c.check(jitOp, "POST", "/orgs/octo/actions/runners/generate-jitconfig", octo,
		map[string]any{"name": "j2", "runner_group_id": 77, "labels": []string{"self-hosted"}}, 404)
	c.check(jitOp, "POST", "/orgs/octo/actions/runners/generate-jitconfig", octo,
		map[string]any{"name": "j2", "runner_group_id": 1, "labels": []string{}}, 422)
	repoJIT := c.check("POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig", "POST", "/repos/octo/app/actions/runners/generate-jitconfig", octo,
		map[string]any{"name": "rj1", "runner_group_id": 1, "labels": []string{"self-hosted", "repo-only"}}, 201)
	c.check("POST /orgs/{org}/actions/runners/registration-token", "POST", "/orgs/octo/actions/runners/registration-token", octo, nil, 201)
	reg := c.check("POST /repos/{owner}/{repo}/actions/runners/registration-token", "POST", "/repos/octo/lib/actions/runners/registration-token", octo, nil, 201)

	// Bring runners online: the org JIT runner takes a job (busy); a persistent repo runner idles.
	var jc struct {
		Runner           struct{ ID int64 }
		EncodedJITConfig string `json:"encoded_jit_config"`
	}
	jit.decode(t, &jc)
	job, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"self-hosted", "Linux"}})
	if err != nil {
		t.Fatal(err)
	}
	c.check("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", "GET", "/repos/octo/app/actions/jobs/"+id(job.ID), octo, nil, 200)
	conn, err := srv.ConnectJIT(jc.EncodedJITConfig)
	if err != nil {
		t.Fatal(err)
	}
	var rt struct{ Token string }
	reg.decode(t, &rt)
	persistent, err := srv.ConnectRegistration(rt.Token, "p1", []string{"big"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var rj struct{ Runner struct{ ID int64 } }
	repoJIT.decode(t, &rj)

	c.check("GET /orgs/{org}/actions/runners", "GET", "/orgs/octo/actions/runners?per_page=1", octo, nil, 200)
	c.check("GET /orgs/{org}/actions/runners/{runner_id}", "GET", "/orgs/octo/actions/runners/"+id(conn.ID()), octo, nil, 200)
	c.check("GET /repos/{owner}/{repo}/actions/runners", "GET", "/repos/octo/lib/actions/runners", octo, nil, 200)
	c.check("GET /repos/{owner}/{repo}/actions/runners/{runner_id}", "GET", "/repos/octo/app/actions/runners/"+id(rj.Runner.ID), octo, nil, 200)
	c.check("GET /orgs/{org}/actions/runner-groups", "GET", "/orgs/octo/actions/runner-groups", octo, nil, 200)
	c.check("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", "GET", "/repos/octo/app/actions/jobs/"+id(job.ID), octo, nil, 200)
	c.check("DELETE /orgs/{org}/actions/runners/{runner_id}", "DELETE", "/orgs/octo/actions/runners/"+id(conn.ID()), octo, nil, 422)
	if err := conn.Complete(ConclusionSuccess); err != nil {
		t.Fatal(err)
	}
	c.check("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", "GET", "/repos/octo/app/actions/jobs/"+id(job.ID), octo, nil, 200)
	c.check("DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", "DELETE", "/repos/octo/lib/actions/runners/"+id(persistent.ID()), octo, nil, 204)
	if err := persistent.Complete(ConclusionSuccess); err == nil {
		t.Fatal("an idle runner completed a job")
	}

	flush(t, srv.Sim)
	c.check("GET /app/hook/deliveries", "GET", "/app/hook/deliveries?per_page=2", jwt, nil, 200)
	c.check("GET /app/hook/deliveries", "GET", "/app/hook/deliveries?cursor=bogus", jwt, nil, 400)
	c.check("GET /app/hook/deliveries", "GET", "/app/hook/deliveries?status=maybe", jwt, nil, 422)
	first := srv.Deliveries()[0]
	c.check("GET /app/hook/deliveries/{delivery_id}", "GET", "/app/hook/deliveries/"+id(first.ID), jwt, nil, 200)
	c.check("POST /app/hook/deliveries/{delivery_id}/attempts", "POST", "/app/hook/deliveries/"+id(first.ID)+"/attempts", jwt, nil, 202)
	flush(t, srv.Sim)

	c.check("GET /repos/{owner}/{repo}/releases/latest", "GET", "/repos/actions/runner/releases/latest", "", nil, 200)
	c.check("GET /repos/{owner}/{repo}/releases/latest", "GET", "/repos/octo/app/releases/latest", octo, nil, 404)
	c.check("GET /repos/{owner}/{repo}/releases/tags/{tag}", "GET", "/repos/actions/runner/releases/tags/v"+DefaultRunnerVersion, octo, nil, 200)
	c.check("GET /repos/{owner}/{repo}/releases/tags/{tag}", "GET", "/repos/actions/runner/releases/tags/v0", "", nil, 404)
	c.check("GET /rate_limit", "GET", "/rate_limit", octo, nil, 200)

	code := manifestCode(t, srv, "/settings/apps/new", testManifest(srv))
	c.check("POST /app-manifests/{code}/conversions", "POST", "/app-manifests/"+code+"/conversions", "", nil, 201)
	c.check("POST /app-manifests/{code}/conversions", "POST", "/app-manifests/"+code+"/conversions", "", nil, 404)
	c.check("GET /app", "GET", "/app", jwt, nil, 200)

	for _, op := range slices.Sorted(maps.Keys(doc.Operations)) {
		if !c.covered[op] {
			t.Errorf("operation %s is in the extract but no contract call covers it", op)
		}
	}
}

func TestContractWebhooks(t *testing.T) {
	doc := loadDoc(t)
	sink := newSink(t)
	srv := start(t, Options{WebhookURL: sink.URL, WebhookSecret: "x"})
	seed(t, srv.Sim)
	// An org repository and a user repository: "organization" is present only for the first.
	for _, repo := range []string{"octo/app", "alice/tools"} {
		tok, err := srv.NewRegistrationToken(repo)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := srv.ConnectRegistration(tok, "r-"+strings.ReplaceAll(repo, "/", "-"), nil, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.QueueJob(JobSpec{Repo: repo, Labels: []string{"self-hosted"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.NextJob(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := conn.Complete(ConclusionSuccess); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, srv.Sim)
	got := sink.received()
	if len(got) != 6 {
		t.Fatalf("%d webhooks, want 6", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		var p struct {
			Action       string
			Organization json.RawMessage
			Repository   struct{ Owner struct{ Type string } }
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		name := "workflow-job-" + strings.ReplaceAll(p.Action, "_", "-")
		schema := doc.Webhooks[name]
		if schema == nil {
			t.Fatalf("no schema for %s", name)
		}
		for _, e := range doc.Validate(r.body, schema, oapi.Options{Strict: true}) {
			t.Errorf("%s (%s-owned): %s", p.Action, p.Repository.Owner.Type, e)
		}
		if (p.Repository.Owner.Type == TypeOrganization) != (len(p.Organization) > 0) {
			t.Errorf("%s: organization present = %v for a %s-owned repository", p.Action, len(p.Organization) > 0, p.Repository.Owner.Type)
		}
		seen[fmt.Sprint(p.Action, " ", p.Repository.Owner.Type)] = true
	}
	if len(seen) != 6 {
		t.Fatalf("events seen = %v, want each action for both owner types", seen)
	}
}
