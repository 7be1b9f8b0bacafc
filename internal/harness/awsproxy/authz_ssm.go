package awsproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/iameval"
)

// ssmRequest holds the fields of Parameter Store requests that authorization reads.
type ssmRequest struct {
	Name           string
	Names          []string
	Path           string
	WithDecryption bool
	Type           string
	KeyID          string `json:"KeyId"`
	Tier           string
	Value          string
	Tags           []struct{ Key, Value string }
	ResourceType   string
	ResourceID     string `json:"ResourceId"`
}

// ssmChecks maps Parameter Store actions to checks on parameter ARNs, with the parameter's
// tags, and the KMS use SSM makes with the caller's identity for SecureString values.
func (p *Proxy) ssmChecks(ctx context.Context, action string, body []byte, who caller) ([]check, bool, error) {
	var req ssmRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, true, fmt.Errorf("ssm request: %w", err)
	}
	// A parameter's tags are read (two emulator calls) only when the role's policies can
	// use them: the functions' never do, the runner role's own-token condition does.
	policies, err := p.rolePolicies(ctx, who.Role)
	if err != nil {
		return nil, true, err
	}
	wantTags := mentions(policies.identity, "ResourceTag") || mentions(policies.boundary, "ResourceTag")
	var out []check
	params := func(act string, names ...string) error {
		for _, n := range names {
			c := check{Action: act, Resource: parameterARN(who, n)}
			if wantTags {
				info, err := p.parameter(ctx, who.Region, n)
				if err != nil {
					return err
				}
				c.Context = tagContext("ssm", info.tags)
			}
			out = append(out, c)
		}
		return nil
	}
	decrypt := func(names ...string) error {
		if !req.WithDecryption {
			return nil
		}
		for _, n := range names {
			// A parameter's key is kept like a policy (policyTTL): ghr writes each path with one key.
			key := "parameter key " + who.Region + " " + n
			v, err := p.memo(key, func() (any, error) { return p.parameter(ctx, who.Region, n) })
			if err != nil {
				return err
			}
			if v.(parameterInfo).typ == "" {
				p.forget(key) // not created yet: ask again next time
			}
			if info := v.(parameterInfo); info.typ != string(ssmtypes.ParameterTypeSecureString) {
				continue
			}
			info := v.(parameterInfo)
			arn := parameterARN(who, n)
			kc, err := p.keyChecks(ctx, who, info.keyID, "ssm", []string{"kms:Decrypt"}, map[string]string{"PARAMETER_ARN": arn})
			if err != nil {
				return err
			}
			for i := range kc {
				kc[i].message = kmsViaSSMRefusal(who, kc[i])
			}
			out = append(out, kc...)
		}
		return nil
	}
	switch action {
	case "ssm:GetParameter":
		if err = params(action, req.Name); err == nil {
			err = decrypt(req.Name)
		}
	case "ssm:GetParameters":
		if err = params(action, req.Names...); err == nil {
			err = decrypt(req.Names...)
		}
	case "ssm:GetParameterHistory", "ssm:DeleteParameter", "ssm:LabelParameterVersion":
		err = params(action, req.Name)
	case "ssm:DeleteParameters":
		err = params("ssm:DeleteParameters", req.Names...)
	case "ssm:GetParametersByPath":
		out = append(out, check{Action: action, Resource: parameterARN(who, strings.TrimSuffix(req.Path, "/"))})
	case "ssm:DescribeParameters":
		out = append(out, check{Action: action, Resource: "*"})
	case "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource":
		if req.ResourceType != string(ssmtypes.ResourceTypeForTaggingParameter) {
			return nil, false, nil
		}
		err = params(action, req.ResourceID)
	case "ssm:PutParameter":
		err = p.putParameterChecks(ctx, req, who, &out)
	default:
		return nil, false, nil
	}
	return out, true, err
}

func (p *Proxy) putParameterChecks(ctx context.Context, req ssmRequest, who caller, out *[]check) error {
	arn := parameterARN(who, req.Name)
	tags := map[string]string{}
	for _, t := range req.Tags {
		tags[t.Key] = t.Value
	}
	put := check{Action: "ssm:PutParameter", Resource: arn, Context: requestTagContext(tags)}
	*out = append(*out, put)
	if len(tags) > 0 { // tagging on create is authorized as its own action
		*out = append(*out, check{Action: "ssm:AddTagsToResource", Resource: arn, Context: requestTagContext(tags)})
	}
	if req.Type != string(ssmtypes.ParameterTypeSecureString) {
		return nil
	}
	keyID := req.KeyID
	if keyID == "" {
		keyID = "alias/aws/ssm"
	}
	// Standard values are encrypted with Encrypt, Advanced ones with a data key (SSM's
	// "How Parameter Store uses AWS KMS"); Intelligent-Tiering picks by size.
	act := "kms:Encrypt"
	if req.Tier == tierAdvanced || req.Tier == tierIntelligent && utf8.RuneCountInString(req.Value) > StandardValueMax {
		act = "kms:GenerateDataKey"
	}
	kc, err := p.keyChecks(ctx, who, keyID, "ssm", []string{act}, map[string]string{"PARAMETER_ARN": arn})
	if err != nil {
		return err
	}
	for i := range kc {
		kc[i].message = kmsViaSSMRefusal(who, kc[i])
	}
	*out = append(*out, kc...)
	return nil
}

// kmsViaSSMRefusal is how SSM reports that KMS refused the caller.
func kmsViaSSMRefusal(who caller, c check) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)",
		who.principal(), c.Action, c.Resource, c.Action)
}

// parameterARN is a parameter's ARN; names may be given as ARNs.
func parameterARN(who caller, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:aws:ssm:" + who.Region + ":" + who.account() + ":parameter/" + strings.TrimPrefix(name, "/")
}

type parameterInfo struct {
	typ, keyID string
	tags       map[string]string
}

// parameter reads a parameter's type, key and tags (read fresh: tags decide runner access
// and are written seconds before they are used). A parameter that does not exist has none.
func (p *Proxy) parameter(ctx context.Context, region, name string) (parameterInfo, error) {
	if i := strings.Index(name, ":parameter"); strings.HasPrefix(name, "arn:") && i >= 0 {
		name = name[i+len(":parameter"):]
	}
	c := ssm.NewFromConfig(p.admin(region))
	out, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
	if err != nil {
		return parameterInfo{}, fmt.Errorf("parameter %s: %w", name, err)
	}
	if len(out.Parameters) == 0 {
		return parameterInfo{}, nil
	}
	info := parameterInfo{typ: string(out.Parameters[0].Type), keyID: aws.ToString(out.Parameters[0].KeyId), tags: map[string]string{}}
	tags, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
	if err != nil {
		return parameterInfo{}, fmt.Errorf("parameter %s tags: %w", name, err)
	}
	for _, t := range tags.TagList {
		info.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if info.keyID == "" && info.typ == string(ssmtypes.ParameterTypeSecureString) {
		info.keyID = "alias/aws/ssm"
	}
	return info, nil
}

// mentions reports whether any of the policies contains s (a condition key's name).
func mentions(policies []iameval.Policy, s string) bool {
	for _, p := range policies {
		if bytes.Contains(p.Document, []byte(s)) {
			return true
		}
	}
	return false
}
