package awsproxy

import "testing"

const (
	testRole = "arn:aws:iam::123456789012:role/ghr-scale-up"
	testKey  = "arn:aws:kms:eu-west-1:123456789012:key/1111"
)

func TestEvaluate(t *testing.T) {
	viaEC2 := map[string][]string{"kms:ViaService": {"ec2.eu-west-1.amazonaws.com"}, "kms:GrantIsForAWSResource": {"true"}}
	viaSSM := map[string][]string{"kms:ViaService": {"ssm.eu-west-1.amazonaws.com"}}
	for _, c := range []struct {
		name, policy, action string
		ctx                  map[string][]string
		want                 Decision
	}{
		{"ssm-only key use refused via EC2", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + testKey + `","Condition":{"StringEquals":{"kms:ViaService":["ssm.eu-west-1.amazonaws.com"]}}}]}`, "kms:Decrypt", viaEC2, NoMatch},
		{"ssm-only key use via SSM", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + testKey + `","Condition":{"StringEquals":{"kms:ViaService":["ssm.eu-west-1.amazonaws.com"]}}}]}`, "kms:Decrypt", viaSSM, Allowed},
		{"action wildcard and case", `{"Statement":{"Effect":"Allow","Action":"KMS:ReEncrypt*","Resource":"*"}}`, "kms:ReEncryptFrom", nil, Allowed},
		{"grant for AWS resources", `{"Statement":[{"Effect":"Allow","Action":["kms:CreateGrant"],"Resource":"arn:aws:kms:*:123456789012:key/*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"},"StringLike":{"kms:ViaService":"ec2.*.amazonaws.com"}}}]}`, "kms:CreateGrant", viaEC2, Allowed},
		{"grant key missing", `{"Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}`, "kms:CreateGrant", viaSSM, NoMatch},
		{"explicit deny wins", `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:ViaService":"ssm.eu-west-1.amazonaws.com"}}}]}`, "kms:Decrypt", viaEC2, Denied},
		{"deny condition unmet", `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:ViaService":"ssm.eu-west-1.amazonaws.com"}}}]}`, "kms:Decrypt", viaSSM, Allowed},
		{"NotAction", `{"Statement":[{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"*"}]}`, "kms:Decrypt", nil, NoMatch},
		{"other resource", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:eu-west-1:123456789012:key/2222"}]}`, "kms:Decrypt", nil, NoMatch},
		{"IfExists on a missing key", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/ghr":"x"}}}]}`, "kms:Decrypt", nil, Allowed},
		{"ForAllValues on tag keys", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["ghr:*"]}}}]}`, "kms:Decrypt", map[string][]string{"aws:TagKeys": {"ghr:a", "other"}}, NoMatch},
	} {
		p, err := ParsePolicy(c.policy)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := Evaluate(PolicyRequest{Action: c.action, Resource: testKey, Principal: testRole, Account: "123456789012", Context: c.ctx}, []PolicyDocument{p}, false)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	p, _ := ParsePolicy(`{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"NumericLessThan":{"kms:x":"1"}}}]}`)
	if _, err := Evaluate(PolicyRequest{Action: "kms:Decrypt", Resource: testKey}, []PolicyDocument{p}, false); err == nil {
		t.Fatal("an operator the evaluator does not know must be an error, not a guess")
	}
}

func TestKeyPolicy(t *testing.T) {
	req := PolicyRequest{Action: "kms:CreateGrant", Resource: testKey, Principal: testRole, Account: "123456789012"}
	root, _ := ParsePolicy(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)
	if ok, err := KeyPolicyDelegates(req, root); !ok || err != nil {
		t.Fatalf("root statement must delegate to IAM: %v %v", ok, err)
	}
	direct, _ := ParsePolicy(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["` + testRole + `"]},"Action":"kms:CreateGrant","Resource":"*"}]}`)
	if ok, _ := KeyPolicyDelegates(req, direct); ok {
		t.Fatal("a statement naming only the role does not delegate")
	}
	if d, err := Evaluate(req, []PolicyDocument{direct}, true); d != Allowed || err != nil {
		t.Fatalf("key policy naming the role: %v %v", d, err)
	}
	other := req
	other.Principal = "arn:aws:iam::123456789012:role/ghr-runner"
	if d, _ := Evaluate(other, []PolicyDocument{direct}, true); d != NoMatch {
		t.Fatalf("key policy must not apply to another principal: %v", d)
	}
}
