package awsproxy

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// What a real account answers and moto does not: Lambda's account settings (moto answers 404)
// with its concurrency quota, the quota's floor of unreserved executions on
// PutFunctionConcurrency, and service-linked roles under AWS's names (moto names spot's
// "AWSServiceRoleForspot"). Shapes follow the Lambda and IAM API references.
const (
	// DefaultLambdaConcurrency is an established account's concurrent-executions quota; new
	// accounts start as low as 10 (SetLambdaConcurrency models them).
	DefaultLambdaConcurrency = 1000
	// lambdaMinUnreserved: Lambda refuses a reservation that leaves fewer unreserved executions.
	lambdaMinUnreserved = 100
	// Code-storage limits of every account (Lambda quotas page); reported, not enforced.
	lambdaTotalCodeSize    = 80530636800 // 75 GB
	lambdaCodeSizeUnzipped = 262144000   // 250 MB
	lambdaCodeSizeZipped   = 52428800    // 50 MB
)

// serviceLinkedRoleNames are AWS's names for the service-linked roles ghr's deployments meet.
var serviceLinkedRoleNames = map[string]string{
	"spot.amazonaws.com":      "AWSServiceRoleForEC2Spot",
	"spotfleet.amazonaws.com": "AWSServiceRoleForEC2SpotFleet",
	"ec2fleet.amazonaws.com":  "AWSServiceRoleForEC2Fleet",
	"ecs.amazonaws.com":       "AWSServiceRoleForECS",
}

// SetLambdaConcurrency sets the account's concurrent-executions quota (0: the default).
func (p *Proxy) SetLambdaConcurrency(quota int32) { p.lambdaQuota.Store(quota) }

func (p *Proxy) lambdaConcurrency() int32 {
	if q := p.lambdaQuota.Load(); q > 0 {
		return q
	}
	return DefaultLambdaConcurrency
}

// serveAccount answers the calls above itself and reports whether it did.
func (p *Proxy) serveAccount(w http.ResponseWriter, r *http.Request, action string, body []byte) bool {
	switch {
	case action == "iam:CreateServiceLinkedRole":
		form, err := url.ParseQuery(string(body))
		if err != nil || serviceLinkedRoleNames[form.Get("AWSServiceName")] == "" {
			return false
		}
		p.createServiceLinkedRole(r.Context(), w, form)
		return true
	case strings.HasPrefix(action, "lambda:") && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2016-08-19/account-settings"):
		p.accountSettings(r.Context(), w)
		return true
	case strings.HasPrefix(action, "lambda:") && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/concurrency"):
		return p.refuseReservation(r, w, body)
	}
	return false
}

// reservations reads every function's reserved concurrency, by function name.
func (p *Proxy) reservations(ctx context.Context) (map[string]int32, int64, error) {
	lc := lambda.NewFromConfig(motoproc.HarnessConfig(p.target.String()))
	got, code := map[string]int32{}, int64(0)
	pages := lambda.NewListFunctionsPaginator(lc, &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, 0, err
		}
		for _, f := range page.Functions {
			c, err := lc.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: f.FunctionName})
			if err != nil {
				return nil, 0, err
			}
			got[aws.ToString(f.FunctionName)] = aws.ToInt32(c.ReservedConcurrentExecutions)
			code += f.CodeSize
		}
	}
	return got, code, nil
}

func (p *Proxy) accountSettings(ctx context.Context, w http.ResponseWriter) {
	res, code, err := p.reservations(ctx)
	if err != nil {
		writeLambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	quota, reserved := p.lambdaConcurrency(), int32(0)
	for _, n := range res {
		reserved += n
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the caller sees a cut answer
		"AccountLimit": map[string]int64{
			"TotalCodeSize": lambdaTotalCodeSize, "CodeSizeUnzipped": lambdaCodeSizeUnzipped, "CodeSizeZipped": lambdaCodeSizeZipped,
			"ConcurrentExecutions": int64(quota), "UnreservedConcurrentExecutions": int64(quota - reserved),
		},
		"AccountUsage": map[string]int64{"TotalCodeSize": code, "FunctionCount": int64(len(res))},
	})
}

// refuseReservation answers a PutFunctionConcurrency that would leave the account fewer than
// lambdaMinUnreserved executions the way Lambda does, and reports whether it did.
func (p *Proxy) refuseReservation(r *http.Request, w http.ResponseWriter, body []byte) bool {
	// /2017-10-31/functions/{name}/concurrency
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var in struct{ ReservedConcurrentExecutions int32 }
	if len(parts) != 4 || parts[1] != "functions" || json.Unmarshal(body, &in) != nil {
		return false
	}
	name, _ := url.PathUnescape(parts[2])
	name = name[strings.LastIndexByte(name, ':')+1:] // a function ARN ends in its name
	res, _, err := p.reservations(r.Context())
	if err != nil {
		writeLambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return true
	}
	reserved := in.ReservedConcurrentExecutions
	for fn, n := range res {
		if fn != name {
			reserved += n
		}
	}
	if p.lambdaConcurrency()-reserved >= lambdaMinUnreserved {
		return false
	}
	writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf(
		"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", lambdaMinUnreserved))
	return true
}

// writeLambdaError is Lambda's REST-JSON error: the type in X-Amzn-ErrorType and the body.
func writeLambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg}) //nolint:errcheck // as above
}

// iamRole is the Role element of IAM's query answers.
type iamRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	Description              string `xml:",omitempty"`
}

func (p *Proxy) createServiceLinkedRole(ctx context.Context, w http.ResponseWriter, form url.Values) {
	service := form.Get("AWSServiceName")
	name := serviceLinkedRoleNames[service]
	if s := form.Get("CustomSuffix"); s != "" {
		name += "_" + s
	}
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{ //nolint:errchkjson // plain maps
		"Effect": "Allow", "Principal": map[string]any{"Service": []string{service}}, "Action": []string{"sts:AssumeRole"}}}})
	in := &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/aws-service-role/" + service + "/"), AssumeRolePolicyDocument: aws.String(string(trust))}
	if d := form.Get("Description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := iam.NewFromConfig(motoproc.HarnessConfig(p.target.String())).CreateRole(ctx, in)
	if err != nil {
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) && coded.ErrorCode() == "EntityAlreadyExists" {
			writeIAMError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Service role name %s has been taken in this account, please try a different suffix.", name))
			return
		}
		writeIAMError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
		return
	}
	role := out.Role
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, `<CreateServiceLinkedRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateServiceLinkedRoleResult>`) //nolint:errcheck // as above
	xml.NewEncoder(w).Encode(struct {                                                                                                       //nolint:errcheck // as above
		XMLName xml.Name `xml:"Role"`
		iamRole
	}{iamRole: iamRole{Path: aws.ToString(role.Path), RoleName: name, RoleId: aws.ToString(role.RoleId), Arn: aws.ToString(role.Arn),
		CreateDate: aws.ToTime(role.CreateDate).UTC().Format(time.RFC3339), AssumeRolePolicyDocument: url.QueryEscape(string(trust)), Description: aws.ToString(role.Description)}})
	io.WriteString(w, `</CreateServiceLinkedRoleResult><ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata></CreateServiceLinkedRoleResponse>`) //nolint:errcheck // as above
}

// writeIAMError is IAM's query-protocol error document.
func writeIAMError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(msg)) //nolint:errcheck // a Builder does not fail
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>`, code, esc.String())
}
