package awsproxy

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// This file is the sandbox's minimal IAM policy evaluator, for the few decisions moto cannot
// make (today: may a launching role use a volume's KMS key through EC2). It covers exactly:
//   - Effect Allow/Deny; Action and NotAction (case-insensitive, * and ? wildcards);
//     Resource and NotResource (case-sensitive wildcards); Principal "*" or {"AWS": ...}
//     in key policies, where the account root or account id delegates to IAM policies;
//   - condition operators StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike,
//     StringNotLike, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool, with the
//     ForAnyValue:/ForAllValues: prefixes and the IfExists suffix;
//   - explicit Deny wins, then any Allow, else implicit deny.
// Any other operator is an error, so a policy the evaluator cannot read is never guessed.
// Not covered (docs/relaxations.md): policy variables, numeric/date/IP operators,
// permission boundaries, SCPs, session policies, grants.

// Decision is a policy set's answer for one request.
type Decision int

// Decisions, in the order of precedence AWS applies.
const (
	NoMatch Decision = iota // implicit deny
	Allowed
	Denied
)

// PolicyRequest is one action on one resource by one principal, with its condition keys.
type PolicyRequest struct {
	Action    string              // "kms:CreateGrant"
	Resource  string              // the resource's ARN
	Principal string              // the caller's role ARN
	Account   string              // the caller's account id
	Context   map[string][]string // condition keys, e.g. "kms:ViaService"
}

// PolicyDocument is an IAM policy (identity or resource policy).
type PolicyDocument struct {
	Statement statements `json:"Statement"`
}

type statement struct {
	Effect      string                        `json:"Effect"`
	Principal   json.RawMessage               `json:"Principal"`
	Action      strList                       `json:"Action"`
	NotAction   strList                       `json:"NotAction"`
	Resource    strList                       `json:"Resource"`
	NotResource strList                       `json:"NotResource"`
	Condition   map[string]map[string]strList `json:"Condition"`
}

// statements and strList take IAM's "one or a list" JSON forms.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	return json.Unmarshal(b, (*[]statement)(s))
}

type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			*l = append(*l, fmt.Sprint(e))
		}
	default:
		*l = strList{fmt.Sprint(v)}
	}
	return nil
}

// ParsePolicy reads a policy document (URL-decoded JSON).
func ParsePolicy(doc string) (PolicyDocument, error) {
	var p PolicyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// Evaluate is the decision of one set of policies (e.g. all of a role's identity policies).
// resourcePolicy makes Principal count: a statement applies only to principals it names.
func Evaluate(req PolicyRequest, policies []PolicyDocument, resourcePolicy bool) (Decision, error) {
	d := NoMatch
	for _, p := range policies {
		for _, s := range p.Statement {
			ok, err := s.applies(req, resourcePolicy)
			if err != nil {
				return Denied, err
			}
			if !ok {
				continue
			}
			if strings.EqualFold(s.Effect, "Deny") {
				return Denied, nil
			}
			d = Allowed
		}
	}
	return d, nil
}

// KeyPolicyDelegates reports whether a KMS key policy lets IAM policies of the account grant
// req (its statement names the account root): AWS then needs an identity-policy Allow too.
func KeyPolicyDelegates(req PolicyRequest, keyPolicy PolicyDocument) (bool, error) {
	root := "arn:aws:iam::" + req.Account + ":root"
	for _, s := range keyPolicy.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		names, err := principals(s.Principal)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if n == root || n == req.Account {
				r := req
				r.Principal = root
				if ok, err := s.applies(r, true); ok || err != nil {
					return ok, err
				}
			}
		}
	}
	return false, nil
}

func (s statement) applies(req PolicyRequest, resourcePolicy bool) (bool, error) {
	if resourcePolicy {
		names, err := principals(s.Principal)
		if err != nil {
			return false, err
		}
		if !anyMatch(names, req.Principal, false) && !contains(names, "*") {
			return false, nil
		}
	}
	if s.Action != nil && !anyMatch(s.Action, req.Action, true) || s.NotAction != nil && anyMatch(s.NotAction, req.Action, true) {
		return false, nil
	}
	if s.Resource != nil && !anyMatch(s.Resource, req.Resource, false) || s.NotResource != nil && anyMatch(s.NotResource, req.Resource, false) {
		return false, nil
	}
	for op, keys := range s.Condition {
		for key, values := range keys {
			ok, err := condition(op, req.Context[key], []string(values), hasKey(req.Context, key))
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func hasKey(ctx map[string][]string, key string) bool {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// principals lists the AWS principals a resource-policy statement names ("*" included).
func principals(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return []string{star}, nil
	}
	var m map[string]strList
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("policy principal: %w", err)
	}
	return m["AWS"], nil
}

// condition evaluates one operator on the request's values for its key.
func condition(op string, have, want []string, present bool) (bool, error) {
	set, base := "", op
	if p, rest, ok := strings.Cut(op, ":"); ok {
		set, base = p, rest
	}
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")
	var match func(h, w string) bool
	negated := false
	switch base {
	case "StringEquals", "ArnEquals", "Bool":
		match = func(h, w string) bool { return h == w }
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = func(h, w string) bool { return wildcard(w, h, false) }
	case "StringNotEquals", "ArnNotEquals":
		match, negated = func(h, w string) bool { return h == w }, true
	case "StringNotLike", "ArnNotLike":
		match, negated = func(h, w string) bool { return wildcard(w, h, false) }, true
	default:
		return false, fmt.Errorf("policy: condition operator %s is not evaluated by the sandbox", op)
	}
	if base == "Bool" {
		for i := range want {
			want[i] = strings.ToLower(want[i])
		}
	}
	if !present {
		return ifExists || negated || set == "ForAllValues", nil
	}
	one := func(h string) bool {
		for _, w := range want {
			if match(h, w) {
				return true
			}
		}
		return false
	}
	switch set {
	case "ForAllValues":
		for _, h := range have {
			if one(h) == negated {
				return false, nil
			}
		}
		return true, nil
	default: // single-valued keys and ForAnyValue: any value matches
		for _, h := range have {
			if one(h) != negated {
				return true, nil
			}
		}
		return false, nil
	}
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold) {
			return true
		}
	}
	return false
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// wildcard matches IAM's * and ? (path.Match's other metacharacters are escaped).
func wildcard(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	esc := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(pattern)
	// path.Match stops * at '/', which IAM does not: match segment-free by mapping '/'.
	ok, err := path.Match(strings.ReplaceAll(esc, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}
