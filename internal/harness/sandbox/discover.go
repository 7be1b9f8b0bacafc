// Package sandbox runs a whole ghr deployment on one machine: the real Terraform module
// applied to moto_server, the real Lambda binaries under lambdahost, the GitHub simulator,
// and simulated runner hosts. It reads the deployment back from the emulator, so what runs
// is what Terraform declared: functions, their environment, event source mappings,
// schedules and the HTTP route.
package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// FunctionSpec is a deployed function as the emulator reports it.
type FunctionSpec struct {
	Name         string
	ARN          string
	Architecture string // "arm64" or "x86_64"
	CodeSha256   string // base64 SHA-256 of the zip, as Lambda reports it
	Env          map[string]string
	Timeout      time.Duration
	MemoryMB     int
	Concurrency  int    // reserved concurrency; 0 when unset
	Role         string // execution role ARN: the function runs with its credentials
}

// MappingSpec is an SQS event source mapping.
type MappingSpec struct {
	Function                string
	QueueARN                string
	QueueURL                string
	BatchSize               int
	BatchingWindow          time.Duration
	ReportBatchItemFailures bool
	MaxConcurrency          int
}

// ScheduleSpec is an EventBridge rule or Scheduler schedule that invokes a function.
type ScheduleSpec struct {
	Name       string
	Function   string
	Expression string // rate(...) or cron(...)
	TimeZone   string
	Every      time.Duration
}

// EventRuleSpec is an EventBridge rule with an event pattern that targets a function.
type EventRuleSpec struct {
	Name     string
	Function string
	Pattern  string
}

// RouteSpec is an HTTP API route with a Lambda proxy integration.
type RouteSpec struct {
	RouteKey string // "POST /webhook"
	Function string
}

// Deployment is everything the sandbox wires.
type Deployment struct {
	Functions map[string]FunctionSpec
	Mappings  []MappingSpec
	Schedules []ScheduleSpec
	Events    []EventRuleSpec
	Routes    []RouteSpec
}

// Discover reads the functions whose names start with prefix, and everything that invokes them.
func Discover(ctx context.Context, cfg aws.Config, prefix string) (*Deployment, error) {
	d := &Deployment{Functions: map[string]FunctionSpec{}}
	lc := lambda.NewFromConfig(cfg)
	if err := discoverFunctions(ctx, lc, prefix, d); err != nil {
		return nil, err
	}
	if len(d.Functions) == 0 {
		return nil, fmt.Errorf("no functions named %s* in the emulator: was the module applied?", prefix)
	}
	steps := []func() error{
		func() error { return discoverMappings(ctx, lc, sqs.NewFromConfig(cfg), d) },
		func() error { return discoverRules(ctx, eventbridge.NewFromConfig(cfg), prefix, d) },
		func() error { return discoverSchedules(ctx, scheduler.NewFromConfig(cfg), prefix, d) },
		func() error { return discoverRoutes(ctx, apigatewayv2.NewFromConfig(cfg), d) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func discoverFunctions(ctx context.Context, lc *lambda.Client, prefix string, d *Deployment) error {
	p := lambda.NewListFunctionsPaginator(lc, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list functions: %w", err)
		}
		for _, f := range page.Functions {
			name := aws.ToString(f.FunctionName)
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: f.FunctionName})
			if err != nil {
				return fmt.Errorf("get function %s: %w", name, err)
			}
			c := got.Configuration
			spec := FunctionSpec{
				Name: name, ARN: aws.ToString(c.FunctionArn), CodeSha256: aws.ToString(c.CodeSha256),
				Timeout: time.Duration(aws.ToInt32(c.Timeout)) * time.Second, MemoryMB: int(aws.ToInt32(c.MemorySize)),
				Architecture: "x86_64", Env: map[string]string{}, Role: aws.ToString(c.Role),
			}
			if len(c.Architectures) > 0 {
				spec.Architecture = string(c.Architectures[0])
			}
			if c.Environment != nil {
				spec.Env = c.Environment.Variables
			}
			if got.Concurrency != nil {
				spec.Concurrency = int(aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions))
			}
			d.Functions[name] = spec
		}
	}
	return nil
}

// discoverMappings reads every SQS event source mapping of our functions, then disables it
// in the emulator: the sandbox plays the Lambda service's pollers itself, and moto's own
// attempt to invoke on every SendMessage (it cannot run the code) would receive messages
// behind our back and push them towards the dead-letter queue.
func discoverMappings(ctx context.Context, lc *lambda.Client, sc *sqs.Client, d *Deployment) error {
	p := lambda.NewListEventSourceMappingsPaginator(lc, &lambda.ListEventSourceMappingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list event source mappings: %w", err)
		}
		for _, m := range page.EventSourceMappings {
			name := functionName(aws.ToString(m.FunctionArn))
			arn := aws.ToString(m.EventSourceArn)
			if _, ours := d.Functions[name]; !ours || !strings.HasPrefix(arn, "arn:aws:sqs:") || aws.ToString(m.State) == "Disabled" {
				continue
			}
			qname := arn[strings.LastIndexByte(arn, ':')+1:]
			q, err := sc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(qname)})
			if err != nil {
				return fmt.Errorf("queue of mapping %s → %s: %w", arn, name, err)
			}
			spec := MappingSpec{
				Function: name, QueueARN: arn, QueueURL: aws.ToString(q.QueueUrl), BatchSize: int(aws.ToInt32(m.BatchSize)),
				BatchingWindow:          time.Duration(aws.ToInt32(m.MaximumBatchingWindowInSeconds)) * time.Second,
				ReportBatchItemFailures: slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures),
			}
			if m.ScalingConfig != nil {
				spec.MaxConcurrency = int(aws.ToInt32(m.ScalingConfig.MaximumConcurrency))
			}
			if _, err := lc.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, Enabled: aws.Bool(false)}); err != nil {
				return fmt.Errorf("take over mapping %s → %s: %w", arn, name, err)
			}
			d.Mappings = append(d.Mappings, spec)
		}
	}
	slices.SortFunc(d.Mappings, func(a, b MappingSpec) int { return strings.Compare(a.QueueARN, b.QueueARN) })
	return nil
}

func discoverRules(ctx context.Context, ec *eventbridge.Client, prefix string, d *Deployment) error {
	rules, err := ec.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)})
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	for _, r := range rules.Rules {
		expr, pattern := aws.ToString(r.ScheduleExpression), aws.ToString(r.EventPattern)
		if (expr == "" && pattern == "") || r.State == "DISABLED" {
			continue
		}
		targets, err := ec.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: r.Name})
		if err != nil {
			return fmt.Errorf("targets of rule %s: %w", aws.ToString(r.Name), err)
		}
		for _, t := range targets.Targets {
			if pattern != "" {
				if fn := functionName(aws.ToString(t.Arn)); d.Functions[fn].Name != "" {
					d.Events = append(d.Events, EventRuleSpec{Name: aws.ToString(r.Name), Function: fn, Pattern: pattern})
				}
				continue
			}
			if err := d.addSchedule(aws.ToString(r.Name), aws.ToString(t.Arn), expr, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

func discoverSchedules(ctx context.Context, sc *scheduler.Client, prefix string, d *Deployment) error {
	list, err := sc.ListSchedules(ctx, &scheduler.ListSchedulesInput{NamePrefix: aws.String(prefix)})
	if err != nil {
		return fmt.Errorf("list schedules: %w", err)
	}
	for _, s := range list.Schedules {
		got, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: s.Name, GroupName: s.GroupName})
		if err != nil {
			return fmt.Errorf("get schedule %s: %w", aws.ToString(s.Name), err)
		}
		if got.State == "DISABLED" || got.Target == nil {
			continue
		}
		if err := d.addSchedule(aws.ToString(s.Name), aws.ToString(got.Target.Arn), aws.ToString(got.ScheduleExpression), aws.ToString(got.ScheduleExpressionTimezone)); err != nil {
			return err
		}
	}
	return nil
}

func (d *Deployment) addSchedule(name, targetARN, expr, tz string) error {
	fn := functionName(targetARN)
	if _, ok := d.Functions[fn]; !ok {
		return nil // targets something other than our functions
	}
	every, err := ScheduleInterval(expr)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", name, err)
	}
	d.Schedules = append(d.Schedules, ScheduleSpec{Name: name, Function: fn, Expression: expr, TimeZone: tz, Every: every})
	return nil
}

func discoverRoutes(ctx context.Context, ac *apigatewayv2.Client, d *Deployment) error {
	apis, err := ac.GetApis(ctx, &apigatewayv2.GetApisInput{})
	if err != nil {
		return fmt.Errorf("get apis: %w", err)
	}
	for _, api := range apis.Items {
		routes, err := ac.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: api.ApiId})
		if err != nil {
			return fmt.Errorf("routes of api %s: %w", aws.ToString(api.Name), err)
		}
		for _, r := range routes.Items {
			integID, ok := strings.CutPrefix(aws.ToString(r.Target), "integrations/")
			if !ok {
				continue
			}
			integ, err := ac.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: api.ApiId, IntegrationId: aws.String(integID)})
			if err != nil {
				return fmt.Errorf("integration %s: %w", integID, err)
			}
			fn := functionName(aws.ToString(integ.IntegrationUri))
			if _, ok := d.Functions[fn]; ok {
				d.Routes = append(d.Routes, RouteSpec{RouteKey: aws.ToString(r.RouteKey), Function: fn})
			}
		}
	}
	return nil
}

// functionName extracts a function name from a function ARN, an API Gateway invoke ARN
// (…/functions/<function-arn>/invocations) or a plain name.
func functionName(arn string) string {
	if i := strings.Index(arn, "/functions/"); i >= 0 {
		arn = strings.TrimSuffix(arn[i+len("/functions/"):], "/invocations")
	}
	if i := strings.Index(arn, ":function:"); i >= 0 {
		arn = arn[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(arn, ":") // drop a qualifier
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
