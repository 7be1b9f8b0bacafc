// Package ssmparam reads decrypted SSM parameters for secrets and large configuration.
package ssmparam

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
)

// API is the part of the SSM client the reader uses.
type API interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Reader reads decrypted parameters.
type Reader struct{ API API }

var _ config.ParameterReader = Reader{}

// Parameter returns the decrypted value of name.
func (r Reader) Parameter(ctx context.Context, name string) (string, error) {
	out, err := r.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("get parameter %s: %w", name, err)
	}
	if out.Parameter == nil {
		return "", fmt.Errorf("get parameter %s: empty answer", name)
	}
	return aws.ToString(out.Parameter.Value), nil
}
