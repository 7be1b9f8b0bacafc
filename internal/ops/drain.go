package ops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/drain"
)

// Drained reads the drain switch (nothing drained when it does not exist).
func (d *Deployment) Drained(ctx context.Context) (drain.Set, error) {
	out, err := d.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(drain.Path(d.Prefix))})
	if awserr.Classify(err) == awserr.NotFound {
		return drain.Set{}, nil
	}
	if err != nil {
		return drain.Set{}, fmt.Errorf("read drain switch: %w", err)
	}
	return drain.Parse(aws.ToString(out.Parameter.Value)), nil
}

// Drain stops launches for configs (drain.All for every config) and returns the new set.
// Running jobs finish; queued jobs wait (deferred) until undrained or expired.
func (d *Deployment) Drain(ctx context.Context, configs ...string) (drain.Set, error) {
	cur, err := d.Drained(ctx)
	if err != nil {
		return cur, err
	}
	return d.setDrain(ctx, cur.With(configs...))
}

// Undrain resumes launches for configs (drain.All for every config).
func (d *Deployment) Undrain(ctx context.Context, configs ...string) (drain.Set, error) {
	cur, err := d.Drained(ctx)
	if err != nil {
		return cur, err
	}
	return d.setDrain(ctx, cur.Without(configs...))
}

// emptyDrain is the stored value of "nothing drained": SSM refuses empty values, and keeping
// the parameter (rather than deleting it) keeps its history.
const emptyDrain = " "

func (d *Deployment) setDrain(ctx context.Context, s drain.Set) (drain.Set, error) {
	v := s.String()
	if v == "" {
		v = emptyDrain
	}
	_, err := d.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(drain.Path(d.Prefix)), Value: aws.String(v), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
		Description: aws.String("ghr drain switch: runner configs (comma-separated, or *) that launch nothing"),
	})
	if err != nil {
		return s, fmt.Errorf("write drain switch: %w", err)
	}
	return s, nil
}
