package awsproxy

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"
)

// SSM Parameter Store limits moto does not enforce, with AWS's defaults (Systems Manager
// endpoints and quotas; PutParameter's Tier documentation).
const (
	// StandardValueMax is a Standard-tier value's limit, counted in characters.
	StandardValueMax = 4096
	// AdvancedValueMax is an Advanced-tier value's limit (8 KB).
	AdvancedValueMax = 8192
	// StandardParameterMax is the number of Standard-tier parameters per account and Region.
	StandardParameterMax = 10_000
	// GetTPS is the default throughput shared by GetParameter, GetParameters and
	// GetParametersByPath.
	GetTPS = 40
	// PutTPS is PutParameter's default throughput.
	PutTPS = 3
)

// SSM tiers as PutParameter names them.
const (
	tierStandard     = "Standard"
	tierAdvanced     = "Advanced"
	tierIntelligent  = "Intelligent-Tiering"
	tooLargeStandard = "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
	tooLargeAdvanced = "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to 8192"
	noDowngrade      = "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter."
	tooManyStandard  = "You have exceeded the number of parameters for this AWS account. Delete some parameters and try again."
	rateExceeded     = "Rate exceeded"
)

// SSMLimits are the Parameter Store rules the proxy enforces; zero fields take AWS's
// defaults. Tests lower them to reach a limit without 10,000 calls.
type SSMLimits struct {
	StandardParameters int     // Standard-tier parameters in the account
	GetTPS, PutTPS     float64 // default throughput
}

// ssmRules tracks each parameter's tier (the proxy sees every write the functions make) and
// the two throughput buckets.
type ssmRules struct {
	mu       sync.Mutex
	limits   SSMLimits
	tiers    map[string]string // name → tier of parameters written through the proxy
	standard int
	get, put bucket
	now      func() time.Time
}

func newSSMRules(l SSMLimits, now func() time.Time) *ssmRules {
	if l.StandardParameters <= 0 {
		l.StandardParameters = StandardParameterMax
	}
	if l.GetTPS <= 0 {
		l.GetTPS = GetTPS
	}
	if l.PutTPS <= 0 {
		l.PutTPS = PutTPS
	}
	return &ssmRules{limits: l, tiers: map[string]string{}, now: now,
		get: bucket{rate: l.GetTPS}, put: bucket{rate: l.PutTPS}}
}

// bucket is a token bucket holding one second of throughput, AWS's burst allowance.
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = b.rate, now
	}
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type putParameter struct {
	Name      string
	Value     string
	Tier      string
	Policies  string
	Overwrite bool
}

// check returns the error AWS would answer for this call, or nil to forward it; for a
// PutParameter it also returns the tier the parameter will have (recorded on success).
func (r *ssmRules) check(action string, body []byte) (f *Fault, tier string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	switch action {
	case "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath":
		if !r.get.take(now) {
			return throttled(), ""
		}
	case "ssm:PutParameter":
		if !r.put.take(now) {
			return throttled(), ""
		}
		var in putParameter
		if json.Unmarshal(body, &in) != nil {
			return nil, "" // moto answers malformed input itself
		}
		return r.putTier(in)
	}
	return nil, ""
}

// putTier applies the tier rules to one PutParameter. Caller holds mu.
func (r *ssmRules) putTier(in putParameter) (*Fault, string) {
	old, exists := r.tiers[in.Name]
	tier := in.Tier
	chars := utf8.RuneCountInString(in.Value)
	switch tier {
	case "":
		tier = tierStandard // the account's default tier until an operator changes it
		if old == tierAdvanced {
			tier = tierAdvanced
		}
	case tierIntelligent:
		tier = tierStandard
		if chars > StandardValueMax || in.Policies != "" || (old != tierStandard && r.standard >= r.limits.StandardParameters) {
			tier = tierAdvanced
		}
		if old == tierAdvanced {
			tier = tierAdvanced
		}
	}
	switch {
	case tier == tierStandard && old == tierAdvanced:
		return validation(noDowngrade), ""
	case tier == tierStandard && chars > StandardValueMax:
		return validation(tooLargeStandard), ""
	case tier == tierAdvanced && len(in.Value) > AdvancedValueMax:
		return validation(tooLargeAdvanced), ""
	case tier == tierStandard && !(exists && old == tierStandard) && r.standard >= r.limits.StandardParameters:
		return &Fault{Status: http.StatusBadRequest, Code: "ParameterLimitExceeded", Message: tooManyStandard}, ""
	}
	return nil, tier
}

// wrote records what a forwarded call changed once the emulator accepted it.
func (r *ssmRules) wrote(action string, body []byte, tier string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch action {
	case "ssm:PutParameter":
		var in putParameter
		if json.Unmarshal(body, &in) != nil {
			return
		}
		r.forget(in.Name)
		r.tiers[in.Name] = tier
		if tier == tierStandard {
			r.standard++
		}
	case "ssm:DeleteParameter":
		var in struct{ Name string }
		if json.Unmarshal(body, &in) == nil {
			r.forget(in.Name)
		}
	case "ssm:DeleteParameters":
		var in struct{ Names []string }
		if json.Unmarshal(body, &in) == nil {
			for _, n := range in.Names {
				r.forget(n)
			}
		}
	}
}

// forget drops a parameter's record. Caller holds mu.
func (r *ssmRules) forget(name string) {
	if r.tiers[name] == tierStandard {
		r.standard--
	}
	delete(r.tiers, name)
}

func throttled() *Fault {
	return &Fault{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: rateExceeded}
}

func validation(msg string) *Fault {
	return &Fault{Status: http.StatusBadRequest, Code: "ValidationException", Message: msg}
}
