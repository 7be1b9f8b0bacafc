// Package ops is the logic of the operator commands (`ghr status`, `runners`, `drain`,
// `undrain`, `protect`, `unprotect`, `redrive`) against a real deployment: AWS calls through
// the standard credential chain, read-only unless a command says otherwise, and acting on an
// instance only when EC2 proves it belongs to the deployment.
package ops

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
)

// EC2API is the part of EC2 the commands use.
type EC2API interface {
	ec2fleet.DescribeAPI
	ec2fleet.TagAPI
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, opts ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
}

// SQSAPI is the part of SQS the commands use.
type SQSAPI interface {
	ListQueues(ctx context.Context, in *sqs.ListQueuesInput, opts ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// SSMAPI is the part of SSM the commands use.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

var (
	_ EC2API = (*ec2.Client)(nil)
	_ SQSAPI = (*sqs.Client)(nil)
	_ SSMAPI = (*ssm.Client)(nil)
)

// Deployment is one ghr deployment, named by its prefix.
type Deployment struct {
	Prefix string
	EC2    EC2API
	SQS    SQSAPI
	SSM    SSMAPI
	// CloudWatch and Lambda feed the status's metrics and budgets; nil leaves those out.
	CloudWatch CloudWatchAPI
	Lambda     LambdaAPI
	Now        func() time.Time // nil means time.Now
}

func (d *Deployment) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Queue kinds, from the module's queue names (terraform/modules/runners/queues.tf).
const (
	KindBuild     = "build"
	KindLifecycle = "lifecycle"
)

// queueRole reads a queue name of the deployment: its kind, runner config (build queues) and
// whether it is a dead-letter queue. ok is false for a name the module did not make.
func (d *Deployment) queueRole(name string) (kind, config string, dlq, ok bool) {
	rest, found := strings.CutPrefix(name, d.Prefix+"-")
	if !found {
		return "", "", false, false
	}
	rest, dlq = strings.CutSuffix(rest, "-dlq")
	if rest == KindLifecycle {
		return KindLifecycle, "", dlq, true
	}
	if cfg, found := strings.CutPrefix(rest, KindBuild+"-"); found && cfg != "" {
		return KindBuild, cfg, dlq, true
	}
	return "", "", false, false
}
