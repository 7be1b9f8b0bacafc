package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/ops"
)

// deploymentFlags name the deployment an operator command acts on. AWS credentials and
// region come from the SDK's standard chain (env, profile, SSO, instance role), and
// AWS_ENDPOINT_URL aims the commands at the local sandbox.
type deploymentFlags struct {
	prefix string
	region string
	json   bool
}

func (f *deploymentFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.prefix, "prefix", os.Getenv("GHR_PREFIX"), "deployment prefix (the module's prefix; default $GHR_PREFIX)")
	fs.StringVar(&f.region, "region", "", "AWS region (default: the SDK's, e.g. $AWS_REGION)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
}

func (f *deploymentFlags) deployment(ctx context.Context) (*ops.Deployment, error) {
	if f.prefix == "" {
		return nil, usageError{"-prefix (or GHR_PREFIX) is required"}
	}
	var opts []func(*awsconfig.LoadOptions) error
	if f.region != "" {
		opts = append(opts, awsconfig.WithRegion(f.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return newDeployment(f.prefix, cfg), nil
}

// newDeployment opens a deployment with every client the commands use.
func newDeployment(prefix string, cfg aws.Config) *ops.Deployment {
	return &ops.Deployment{Prefix: prefix, EC2: ec2.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)}
}

// deploymentCommand is one operator command: its own flags and argument rules, what it does
// to the deployment, and how a person reads its result. run holds the steps they all share:
// parse the flags, check the arguments before any AWS call, open the deployment, act, then
// print JSON (-json) or the text.
type deploymentCommand[T any] struct {
	name    string
	maxArgs int                          // positional arguments allowed (-1: any)
	flags   func(fs *flag.FlagSet)       // the command's own flags; nil for none
	check   func(fs *flag.FlagSet) error // argument rules; nil for none
	do      func(ctx context.Context, d *ops.Deployment, f *deploymentFlags, args []string) (T, error)
	// partial reports whether a result do returned with an error is worth printing: a
	// command that failed part-way shows what it did first. nil prints nothing on error.
	partial func(v T) bool
	text    func(w io.Writer, v T) error
}

func (c deploymentCommand[T]) run(ctx context.Context, args []string, stdout io.Writer) error {
	var f deploymentFlags
	fs := newFlags(c.name)
	f.define(fs)
	if c.flags != nil {
		c.flags(fs)
	}
	if err := parseFlags(fs, args, c.maxArgs, stdout); err != nil {
		return err
	}
	if c.check != nil {
		if err := c.check(fs); err != nil {
			return err
		}
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	v, err := c.do(ctx, d, &f, fs.Args())
	if err != nil && (c.partial == nil || !c.partial(v)) {
		return err
	}
	var perr error
	if f.json {
		perr = printJSON(stdout, v)
	} else {
		perr = c.text(stdout, v)
	}
	if perr != nil {
		return perr
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns; cells may carry colour, which only a terminal gets.
type table struct {
	tw     *tabwriter.Writer
	colour bool
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), colour: isTerminal(w)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }
func (t *table) flush() error        { return t.tw.Flush() }

// Colours (ANSI): tabwriter counts their bytes, so every cell of a column is wrapped alike.
const (
	red    = "31"
	yellow = "33"
	green  = "32"
)

// paint colours s when writing to a terminal and NO_COLOR is unset; otherwise s as is.
func (t *table) paint(s, colour string, when bool) string {
	if !t.colour {
		return s
	}
	if !when {
		colour = "0"
	}
	return "\x1b[" + colour + "m" + s + "\x1b[0m"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// age prints a duration the way people read ages: 45s, 12m, 3h05m, 2d04h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
