package awsproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/ghr-dev/ghr/internal/harness/iameval"
)

// IAM for the sandbox's roles. moto enforces IAM at the action level only, so for requests
// signed with credentials from Credentials (each function's own role; the runner role for
// hosts) the proxy works out what AWS would authorize — the IAM action, the resource ARN and
// the condition keys, with the resource's policy (KMS key, SQS queue, S3 bucket) — and asks
// the evaluator (internal/harness/iameval, @cloud-copilot/iam-simulate). A request AWS would
// refuse gets AWS's AccessDenied in the service's own shape and never reaches the emulator.
//
// Which requests map to which checks lives in authz_*.go, one file per service, for exactly
// the actions the module's policies use; an action with no mapping is forwarded and counted
// in Unevaluated (docs/relaxations.md), so a new call shows up instead of passing silently.

// check is one authorization AWS makes for a request.
type check struct {
	Action   string
	Resource string
	Context  map[string][]string
	// ResourcePolicy is the policy of the resource itself (key, queue, bucket), if it has one.
	ResourcePolicy json.RawMessage
	// launch marks the RunInstances/CreateTags/PassRole checks CreateFleet makes per
	// instance: AWS reports those inside CreateFleet's answer, not as the call's error.
	launch bool
	// message replaces AWS's default refusal text (KMS through SSM words it its own way).
	message string
}

// caller is the identity behind a request signed with Credentials' keys.
type caller struct {
	Role    string // arn:aws:iam::111122223333:role/path/name
	Session string
	Region  string
}

var instanceSession = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

func (c caller) account() string { return strings.Split(c.Role, ":")[4] }

// principal is the assumed-role session ARN AWS names in refusals and evaluates policies for.
func (c caller) principal() string {
	return "arn:aws:sts::" + c.account() + ":assumed-role/" + c.Role[strings.LastIndexByte(c.Role, '/')+1:] + "/" + c.Session
}

// globalContext holds the keys AWS adds to every request by this caller. A session named for
// an instance id is an instance profile's (BootEnv names them so), which carries
// ec2:SourceInstanceARN as on EC2.
func (c caller) globalContext() map[string][]string {
	ctx := map[string][]string{
		"aws:PrincipalArn":     {c.Role},
		"aws:PrincipalAccount": {c.account()},
		"aws:PrincipalType":    {"AssumedRole"},
		"aws:RequestedRegion":  {c.Region},
		"aws:SecureTransport":  {"true"}, // AWS SDKs call AWS over TLS; the sandbox's plain HTTP is not the product's
	}
	if instanceSession.MatchString(c.Session) {
		ctx["ec2:SourceInstanceARN"] = []string{"arn:aws:ec2:" + c.Region + ":" + c.account() + ":instance/" + c.Session}
	}
	return ctx
}

// evaluator starts the Node evaluator on the first request that needs it, so a proxy used
// only with the harness's own credentials never runs it.
func (p *Proxy) evaluator() (*iameval.Evaluator, error) {
	p.evalOnce.Do(func() { p.eval, p.evalErr = iameval.Start() })
	return p.eval, p.evalErr
}

// Close stops the evaluator, if it ran.
func (p *Proxy) Close() error {
	if p.eval != nil {
		return p.eval.Close()
	}
	return nil
}

// Unevaluated returns the calls by a role that the proxy forwarded without evaluating IAM
// (no mapping for the action), by action.
func (p *Proxy) Unevaluated() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.unevaluated)
}

// Denied returns the calls refused by IAM evaluation, by action.
func (p *Proxy) Denied() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.denied)
}

// DeniedExcept returns the calls refused by IAM evaluation, by action, leaving out those of
// the roles whose ARN ends in one of suffixes. A runner host polls for its token before
// scale-up has stored it, and IAM refuses a read of a parameter that does not exist yet (its
// tag cannot match): expected, and retried by the boot, so a report on the functions' own
// permissions leaves the runner role out.
func (p *Proxy) DeniedExcept(suffixes ...string) map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for role, byAction := range p.deniedBy {
		if slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(role, s) }) {
			continue
		}
		for a, n := range byAction {
			out[a] += n
		}
	}
	return out
}

// authorize decides r for who. It answers the refusal itself and returns false when AWS
// would refuse; a launch refused per instance is answered as CreateFleet does.
func (p *Proxy) authorize(w http.ResponseWriter, r *http.Request, body []byte, action string, who caller) bool {
	ctx := r.Context()
	checks, mapped, err := p.checks(ctx, r, body, action, who)
	if err != nil {
		writeFault(w, action, Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "sandbox: " + err.Error()})
		return false
	}
	if !mapped {
		p.mu.Lock()
		p.unevaluated[action]++
		p.mu.Unlock()
		return true
	}
	c, d, err := p.decide(ctx, who, checks)
	if err != nil {
		writeFault(w, action, Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "sandbox: " + err.Error()})
		return false
	}
	if d == iameval.Allowed {
		return true
	}
	msg := refusal(who, c, d)
	p.mu.Lock()
	p.denied[action]++
	if p.deniedBy[who.Role] == nil {
		p.deniedBy[who.Role] = map[string]int{}
	}
	p.deniedBy[who.Role][action]++
	log := p.log
	p.mu.Unlock()
	if log != nil {
		log.Warn("iam refused", "action", action, "checked", c.Action, "resource", c.Resource, "role", who.Role, "decision", string(d), "reason", msg)
	}
	writeDenied(w, action, c, msg)
	return false
}

// SetLogger logs each IAM refusal (why a function's call failed) to l.
func (p *Proxy) SetLogger(l *slog.Logger) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = l
}

// decide evaluates checks in order and returns the first refused one with its decision.
func (p *Proxy) decide(ctx context.Context, who caller, checks []check) (check, iameval.Decision, error) {
	e, err := p.evaluator()
	if err != nil {
		return check{}, "", err
	}
	policies, err := p.rolePolicies(ctx, who.Role)
	if err != nil {
		return check{}, "", err
	}
	global := who.globalContext()
	for _, c := range checks {
		cx := maps.Clone(global)
		maps.Copy(cx, c.Context)
		res, err := e.Evaluate(ctx, iameval.Request{Principal: who.principal(), Action: c.Action, Resource: c.Resource,
			Account: resourceAccount(c.Resource, who), Context: cx, Identity: policies.identity, Boundary: policies.boundary, ResourcePolicy: c.ResourcePolicy})
		if err != nil {
			return c, "", err
		}
		if res.Decision != iameval.Allowed {
			return c, res.Decision, nil
		}
	}
	return check{}, iameval.Allowed, nil
}

// resourceAccount is the account in the resource's ARN; S3 and image ARNs have none, and
// are the caller's account's here (the sandbox has one account).
func resourceAccount(arn string, who caller) string {
	if parts := strings.Split(arn, ":"); len(parts) > 4 && parts[4] != "" {
		return parts[4]
	}
	return who.account()
}

// refusal words a denial as AWS does.
func refusal(who caller, c check, d iameval.Decision) string {
	if c.message != "" {
		return c.message
	}
	why := "because no identity-based policy allows the " + c.Action + " action"
	if d == iameval.ExplicitlyDenied {
		why = "with an explicit deny in a policy"
	} else if c.ResourcePolicy != nil && strings.HasPrefix(c.Action, "kms:") {
		why = "because no resource-based policy allows the " + c.Action + " action"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", who.principal(), c.Action, c.Resource, why)
}

// writeDenied answers AccessDenied in the caller's service's shape.
func writeDenied(w http.ResponseWriter, action string, c check, msg string) {
	service, _, _ := strings.Cut(action, ":")
	switch service {
	case "ec2":
		if c.launch && action == "ec2:CreateFleet" {
			// An instant fleet reports per-launch refusals in its answer; the call succeeds.
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<CreateFleetResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sandbox</requestId><fleetId>fleet-00000000-0000-4000-8000-000000000001</fleetId><errorSet><item><errorCode>UnauthorizedOperation</errorCode><errorMessage>You are not authorized to perform this operation. %s</errorMessage><lifecycle>on-demand</lifecycle></item></errorSet><fleetInstanceSet/></CreateFleetResponse>`, xmlEscape(msg))
			return
		}
		writeFault(w, action, Fault{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: xmlEscape("You are not authorized to perform this operation. " + msg)})
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>sandbox</RequestId></Error>`, xmlEscape(msg))
	case "sqs":
		writeFault(w, action, Fault{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg})
	default: // ssm, kms and the other JSON services
		writeFault(w, action, Fault{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: msg})
	}
}

var xmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace

// checks maps a request to its authorizations; mapped is false for actions with no mapping.
func (p *Proxy) checks(ctx context.Context, r *http.Request, body []byte, action string, who caller) ([]check, bool, error) {
	service, _, _ := strings.Cut(action, ":")
	switch service {
	case "ssm":
		return p.ssmChecks(ctx, action, body, who)
	case "ec2":
		return p.ec2Checks(ctx, action, body, who)
	case "sqs":
		return p.sqsChecks(ctx, action, body, who)
	case "s3":
		return p.s3Checks(ctx, r, who)
	case "logs":
		return p.logsChecks(action, body, who)
	case "sts":
		// GetCallerIdentity needs no permission; AssumeRole by a role is not something ghr does.
		return nil, action == "sts:GetCallerIdentity", nil
	}
	return nil, false, nil
}

// Allowed evaluates one action of roleARN on resource outside any request, for checks AWS
// makes when a resource is configured rather than called: Lambda refuses an SQS event source
// mapping whose execution role may not receive, delete and read the queue's attributes.
func (p *Proxy) Allowed(ctx context.Context, roleARN, action, resource string) (bool, error) {
	who := caller{Role: roleARN, Session: "configuration", Region: strings.Split(resource, ":")[3]}
	var rp json.RawMessage
	if strings.HasPrefix(action, "sqs:") {
		parts := strings.Split(resource, ":")
		var err error
		if rp, err = p.queuePolicy(ctx, who.Region, strings.TrimSuffix(p.target.String(), "/")+"/"+parts[4]+"/"+parts[5]); err != nil {
			return false, err
		}
	}
	_, d, err := p.decide(ctx, who, []check{{Action: action, Resource: resource, ResourcePolicy: rp}})
	return d == iameval.Allowed, err
}
