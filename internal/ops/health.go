package ops

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/scaledown"
)

// CloudWatchAPI is the part of CloudWatch `ghr status` reads: the functions' EMF metrics and
// SQS's own, the figures the module's alarms watch.
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// LambdaAPI is the part of Lambda `ghr status` reads: each function's configuration.
type LambdaAPI interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, opts ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
}

var (
	_ CloudWatchAPI = (*cloudwatch.Client)(nil)
	_ LambdaAPI     = (*lambda.Client)(nil)
)

// Status windows.
const (
	// waitWindow: scale-up sees a waiting job at least once a minute (its longest requeue
	// delay) and publishes its age (WaitingJobAge); two minutes cover one late sighting.
	waitWindow = 2 * time.Minute
	// githubWindow: pacing and rate-limit figures over the alarms' five-minute period.
	githubWindow = 5 * time.Minute
	// pointsEnv is each function's part of the GitHub budget (terraform/main.tf).
	pointsEnv = "GITHUB_POINTS_PER_MINUTE"
)

// WaitingJob is the oldest job waiting for a runner.
type WaitingJob struct {
	Config string        `json:"config"`
	Age    time.Duration `json:"age_ns"`
	// Source names the figure: WaitingJobAge (scale-up's view of requeued jobs, which SQS
	// sees as new messages) or ApproximateAgeOfOldestMessage (SQS: jobs scale-up has not
	// taken yet).
	Source string `json:"source"`
}

// GitHubState is the App's GitHub budget as the functions spend it.
type GitHubState struct {
	Window time.Duration `json:"window_ns"`
	// Remaining is the lowest primary quota GitHub reported in the window; nil without data.
	Remaining   *int `json:"remaining,omitempty"`
	PacingWaits int  `json:"pacing_waits"` // requests our pacers delayed or refused
	RateLimited int  `json:"rate_limited"` // rate-limit answers from GitHub
	// Budgets is each function's secondary-limit budget per container (points per minute).
	Budgets []FunctionBudget `json:"budgets"`
}

// FunctionBudget is one function's GITHUB_POINTS_PER_MINUTE.
type FunctionBudget struct {
	Function        string `json:"function"`
	PointsPerMinute int    `json:"points_per_minute"`
}

// lastPass reads what the latest scale-down pass recorded; nil before the first.
func (d *Deployment) lastPass(ctx context.Context) (*scaledown.PassRecord, error) {
	out, err := d.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(scaledown.LastPassPath(d.Prefix))})
	if awserr.Classify(err) == awserr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last scale-down pass: %w", err)
	}
	rec, err := scaledown.ParsePassRecord(aws.ToString(out.Parameter.Value))
	return &rec, err
}

// budgets reads each function's GitHub budget from its environment.
func (d *Deployment) budgets(ctx context.Context) ([]FunctionBudget, error) {
	var out []FunctionBudget
	in := &lambda.ListFunctionsInput{}
	for {
		page, err := d.Lambda.ListFunctions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		for _, f := range page.Functions {
			fn, ours := strings.CutPrefix(aws.ToString(f.FunctionName), d.Prefix+"-")
			if !ours || f.Environment == nil {
				continue
			}
			if e := f.Environment.Error; e != nil {
				// A customer-managed key the operator may not decrypt with hides the values.
				return out, fmt.Errorf("environment of %s: %s: %s", aws.ToString(f.FunctionName), aws.ToString(e.ErrorCode), aws.ToString(e.Message))
			}
			if p, err := strconv.Atoi(f.Environment.Variables[pointsEnv]); err == nil {
				out = append(out, FunctionBudget{Function: fn, PointsPerMinute: p})
			}
		}
		if aws.ToString(page.NextMarker) == "" {
			break
		}
		in.Marker = page.NextMarker
	}
	slices.SortFunc(out, func(a, b FunctionBudget) int { return strings.Compare(a.Function, b.Function) })
	return out, nil
}

// metricQuery is one GetMetricData query and what its answer is for.
type metricQuery struct {
	q   cwtypes.MetricDataQuery
	use func(vals []float64)
}

func stat(id, namespace, name, statistic string, window time.Duration, dims map[string]string) cwtypes.MetricDataQuery {
	m := &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(name)}
	for _, k := range slices.Sorted(maps.Keys(dims)) { // name order: see the harness's metric shipper

		m.Dimensions = append(m.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(true),
		MetricStat: &cwtypes.MetricStat{Metric: m, Period: aws.Int32(int32(window.Seconds())), Stat: aws.String(statistic)}}
}

// fromMetrics fills the oldest waiting job and the GitHub figures from CloudWatch, in one
// GetMetricData call.
func (d *Deployment) fromMetrics(ctx context.Context, st *Status) error {
	dep := map[string]string{metrics.DimDeployment: d.Prefix}
	var qs []metricQuery
	wait := func(config string, age time.Duration, source string) {
		if st.OldestWaiting == nil || age > st.OldestWaiting.Age {
			st.OldestWaiting = &WaitingJob{Config: config, Age: age, Source: source}
		}
	}
	for i, q := range st.Queues {
		if q.Kind != KindBuild || q.DLQ {
			continue
		}
		qs = append(qs,
			metricQuery{stat(fmt.Sprintf("wait%d", i), metrics.Namespace, metrics.WaitingJobAge.Name, "Maximum", waitWindow,
				map[string]string{metrics.DimDeployment: d.Prefix, metrics.DimConfig: q.Config}),
				func(vals []float64) {
					wait(q.Config, time.Duration(slices.Max(vals))*time.Millisecond, metrics.WaitingJobAge.Name)
				}},
			metricQuery{stat(fmt.Sprintf("sqs%d", i), "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", waitWindow,
				map[string]string{"QueueName": q.Name}),
				func(vals []float64) {
					wait(q.Config, time.Duration(slices.Max(vals))*time.Second, "ApproximateAgeOfOldestMessage")
				}},
		)
	}
	sum := func(dst *int) func([]float64) {
		return func(vals []float64) {
			for _, v := range vals {
				*dst += int(v)
			}
		}
	}
	qs = append(qs,
		metricQuery{stat("pacing", metrics.Namespace, metrics.GitHubPacingWaits.Name, "Sum", githubWindow, dep), sum(&st.GitHub.PacingWaits)},
		metricQuery{stat("limited", metrics.Namespace, metrics.GitHubRateLimited.Name, "Sum", githubWindow, dep), sum(&st.GitHub.RateLimited)},
		metricQuery{stat("remaining", metrics.Namespace, metrics.GitHubRateLimitRemaining.Name, "Minimum", githubWindow, dep),
			func(vals []float64) { r := int(slices.Min(vals)); st.GitHub.Remaining = &r }},
	)
	byID := map[string]metricQuery{}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(st.At.Add(-githubWindow)), EndTime: aws.Time(st.At.Add(time.Minute))}
	for _, q := range qs {
		byID[aws.ToString(q.q.Id)] = q
		in.MetricDataQueries = append(in.MetricDataQueries, q.q)
	}
	// The wait figures cover waitWindow: their answers are cut to it below.
	waitFrom := st.At.Add(-waitWindow)
	for {
		out, err := d.CloudWatch.GetMetricData(ctx, in)
		if err != nil {
			return fmt.Errorf("read metrics: %w", err)
		}
		for _, r := range out.MetricDataResults {
			id := aws.ToString(r.Id)
			var vals []float64
			for i, v := range r.Values {
				if strings.HasPrefix(id, "wait") || strings.HasPrefix(id, "sqs") {
					if i < len(r.Timestamps) && r.Timestamps[i].Add(waitWindow).Before(waitFrom) {
						continue
					}
				}
				vals = append(vals, v)
			}
			if q, ok := byID[id]; ok && len(vals) > 0 {
				q.use(vals)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}
