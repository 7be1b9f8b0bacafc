package iameval

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const (
	session = "arn:aws:sts::123456789012:assumed-role/ghr-scale-up/scale-up"
	account = "123456789012"
	// The shape of the module's function policies: own parameters, tag-conditioned EC2, the
	// deployment key only through SSM.
	identity = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/ghr/app/*"},
	 {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*",
	  "Condition":{"StringEquals":{"ec2:ResourceTag/ghr:environment":"ghr"},"ForAllValues:StringLike":{"aws:TagKeys":["ghr:registered","ghr:runner-id/i-*"]}}},
	 {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}},
	 {"Effect":"Deny","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/ghr/app/forbidden"}]}`
	rootKeyPolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
	denyRoleOnKey   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/ghr-scale-up"},"Action":"kms:Decrypt","Resource":"*"}]}`
	keyARN          = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	viaSSM          = "ssm.us-east-1.amazonaws.com"
	ownInstance     = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
	ownTag          = "ec2:ResourceTag/ghr:environment"
	parameterPrefix = "arn:aws:ssm:us-east-1:123456789012:parameter/"
)

func start(t testing.TB) *Evaluator {
	t.Helper()
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestEvaluate(t *testing.T) {
	e := start(t)
	ident := []Policy{{Name: "function", Document: json.RawMessage(identity)}}
	for _, c := range []struct {
		name      string
		action    string
		resource  string
		context   map[string][]string
		resPolicy string
		want      Decision
	}{
		{"own parameter", "ssm:GetParameter", parameterPrefix + "ghr/app/key", nil, "", Allowed},
		{"another prefix's parameter", "ssm:GetParameter", parameterPrefix + "other/app/key", nil, "", ImplicitlyDenied},
		{"explicit deny wins", "ssm:GetParameter", parameterPrefix + "ghr/app/forbidden", nil, "", ExplicitlyDenied},
		{"tag keys the policy allows", "ec2:CreateTags", ownInstance, map[string][]string{ownTag: {"ghr"}, "aws:TagKeys": {"ghr:registered", "ghr:runner-id/i-0123"}}, "", Allowed},
		{"a tag key outside the list", "ec2:CreateTags", ownInstance, map[string][]string{ownTag: {"ghr"}, "aws:TagKeys": {"ghr:registered", "Name"}}, "", ImplicitlyDenied},
		{"another deployment's instance", "ec2:CreateTags", ownInstance, map[string][]string{ownTag: {"other"}, "aws:TagKeys": {"ghr:registered"}}, "", ImplicitlyDenied},
		{"an untagged instance", "ec2:CreateTags", ownInstance, map[string][]string{"aws:TagKeys": {"ghr:registered"}}, "", ImplicitlyDenied},
		{"key through SSM, root delegates", "kms:Decrypt", keyARN, map[string][]string{"kms:ViaService": {viaSSM}}, rootKeyPolicy, Allowed},
		{"key directly", "kms:Decrypt", keyARN, nil, rootKeyPolicy, ImplicitlyDenied},
		{"key policy denies the role's session", "kms:Decrypt", keyARN, map[string][]string{"kms:ViaService": {viaSSM}}, denyRoleOnKey, ExplicitlyDenied},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := Request{Principal: session, Action: c.action, Resource: c.resource, Account: account, Context: c.context, Identity: ident}
			if c.resPolicy != "" {
				req.ResourcePolicy = json.RawMessage(c.resPolicy)
			}
			got, err := e.Evaluate(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Decision != c.want {
				t.Fatalf("%s %s: %s, want %s", c.action, c.resource, got.Decision, c.want)
			}
		})
	}
}

// A request the evaluator cannot read is an error, never a decision.
func TestEvaluateRefusesWhatItCannotRead(t *testing.T) {
	e := start(t)
	for name, req := range map[string]Request{
		"unknown action":      {Principal: session, Action: "ec2:LaunchEverything", Resource: "*", Account: account},
		"invalid policy":      {Principal: session, Action: "ssm:GetParameter", Resource: parameterPrefix + "x", Account: account, Identity: []Policy{{Name: "p", Document: json.RawMessage(`{"Statement":[{"Effect":"Perhaps","Action":"ssm:*","Resource":"*"}]}`)}}},
		"wrong resource type": {Principal: session, Action: "ssm:GetParameter", Resource: ownInstance, Account: account},
	} {
		if r, err := e.Evaluate(context.Background(), req); err == nil {
			t.Errorf("%s: %v, want an error", name, r.Decision)
		}
	}
}

// Concurrent callers each get their own answer, and repeated questions come from the cache.
func TestEvaluateConcurrentAndCached(t *testing.T) {
	e := start(t)
	ident := []Policy{{Name: "function", Document: json.RawMessage(identity)}}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name, want := "ghr/app/key", Allowed
			if i%2 == 1 {
				name, want = "other/app/key", ImplicitlyDenied
			}
			r, err := e.Evaluate(context.Background(), Request{Principal: session, Action: "ssm:GetParameter", Resource: parameterPrefix + name, Account: account, Identity: ident})
			if err == nil && r.Decision != want {
				err = &mismatch{name, r.Decision}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.Asked(); n > 40 || n < 2 {
		t.Fatalf("asked the process %d times", n)
	}
	before := e.Asked()
	if _, err := e.Evaluate(context.Background(), Request{Principal: session, Action: "ssm:GetParameter", Resource: parameterPrefix + "ghr/app/key", Account: account, Identity: ident}); err != nil {
		t.Fatal(err)
	}
	if e.Asked() != before {
		t.Fatal("a repeated question reached the process")
	}
}

type mismatch struct {
	name string
	got  Decision
}

func (m *mismatch) Error() string { return m.name + ": " + string(m.got) }

func TestStartExplainsAMissingInstall(t *testing.T) {
	t.Setenv("GHR_IAMEVAL_DIR", t.TempDir())
	_, err := Start()
	if err == nil || !strings.Contains(err.Error(), "check-tools.sh") {
		t.Fatalf("Start without node_modules: %v", err)
	}
}

// BenchmarkEvaluate is the cost of one question the cache has not seen (the Node process's
// simulation and the line protocol), and of one it has.
func BenchmarkEvaluate(b *testing.B) {
	e := start(b)
	ident := []Policy{{Name: "function", Document: json.RawMessage(identity)}}
	b.Run("uncached", func(b *testing.B) {
		for i := range b.N {
			req := Request{Principal: session, Action: "ssm:GetParameter", Resource: parameterPrefix + "ghr/app/" + strconv.Itoa(i), Account: account, Identity: ident}
			if _, err := e.Evaluate(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		req := Request{Principal: session, Action: "ssm:GetParameter", Resource: parameterPrefix + "ghr/app/key", Account: account, Identity: ident}
		for range b.N {
			if _, err := e.Evaluate(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
