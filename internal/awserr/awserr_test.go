package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Other},
		{"plain error", errors.New("connection reset"), Other},
		{"ec2 throttle", api("RequestLimitExceeded"), Throttling},
		{"ec2 throttle after sdk retries", &retry.MaxAttemptsError{Attempt: 3, Err: api("RequestLimitExceeded")}, Throttling},
		{"wrapped capacity", fmt.Errorf("create fleet: %w", api("InsufficientInstanceCapacity")), Capacity},
		{"quota", api("VcpuLimitExceeded"), Quota},
		{"bad template", api("InvalidLaunchTemplateName.NotFoundException"), InvalidConfig},
		{"typed ssm not found", &ssmtypes.ParameterNotFound{}, NotFound},
		{"typed ssm exists", &ssmtypes.ParameterAlreadyExists{}, AlreadyExists},
		{"message text is ignored", errors.New("InsufficientInstanceCapacity"), Other},
		{"unknown code", api("SomethingNew"), Other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Fatalf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for c, want := range map[Class]bool{Other: true, Throttling: true, Capacity: true, Quota: true, InvalidConfig: false, NotFound: false, AlreadyExists: false} {
		if Retryable(c) != want {
			t.Errorf("Retryable(%s) = %v, want %v", c, !want, want)
		}
	}
}
