package scaledown

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// LastPassPath is the SSM parameter where each pass records what it did, for `ghr status`.
// Nothing else keeps it: a pass's counts are otherwise only in its log line and metrics.
// One PutParameter per pass (every 5 minutes by default) is far inside SSM's write limit.
func LastPassPath(prefix string) string { return "/" + prefix + "/scale-down/last-pass" }

// PassRecord is one pass as `ghr status` shows it.
type PassRecord struct {
	At      time.Time `json:"at"` // when the pass ended
	Seconds float64   `json:"seconds"`
	Result  Result    `json:"result"`
	Error   string    `json:"error,omitempty"`
}

// ParsePassRecord reads a parameter value written by SSMPassLog.
func ParsePassRecord(v string) (PassRecord, error) {
	var rec PassRecord
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return rec, fmt.Errorf("last scale-down pass: %w", err)
	}
	return rec, nil
}

// PassLog keeps the record of the latest pass.
type PassLog interface {
	Save(ctx context.Context, rec PassRecord) error
}

// ParameterWriter is the part of SSM SSMPassLog uses.
type ParameterWriter interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// SSMPassLog overwrites LastPassPath with each pass's record.
type SSMPassLog struct {
	API    ParameterWriter
	Prefix string
}

var (
	_ PassLog         = SSMPassLog{}
	_ ParameterWriter = (*ssm.Client)(nil)
)

// Save writes rec.
func (l SSMPassLog) Save(ctx context.Context, rec PassRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = l.API.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(LastPassPath(l.Prefix)), Value: aws.String(string(b)), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("record pass: %w", err)
	}
	return nil
}
