package interruption

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/awserr"
)

// SSM limits the store works within.
const (
	// pageSize is GetParametersByPath's largest page.
	pageSize = 10
	// maxPages bounds one listing (500 records): records live for the breaker's window plus
	// cool-down, and 500 interruptions in that time means spot is unusable anyway. A listing
	// cut short is an error, so the gate falls back to the config's own capacity type.
	maxPages = 50
	// deleteBatch is DeleteParameters' most names per call.
	deleteBatch = 10
)

// SSMAPI is the part of the SSM client the store uses; *ssm.Client implements it.
type SSMAPI interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, opts ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, opts ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
}

var (
	_ SSMAPI = (*ssm.Client)(nil)
	_ Store  = SSMStore{}
)

// SSMStore keeps one String parameter per record under Path(prefix). Records hold no
// secret: ids and times only.
type SSMStore struct {
	API    SSMAPI
	Prefix string
}

// Path is the parameter folder of a deployment's records (terraform grants exactly it).
func Path(prefix string) string { return "/" + prefix + "/interruptions" }

func (s SSMStore) name(instanceID string) string { return path.Join(Path(s.Prefix), instanceID) }

// Put writes r, replacing the instance's earlier record.
func (s SSMStore) Put(ctx context.Context, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.API.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(s.name(r.InstanceID)), Value: aws.String(string(b)),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("put interruption record %s: %w", r.InstanceID, err)
	}
	return nil
}

// Get reads the instance's record; ok is false when there is none.
func (s SSMStore) Get(ctx context.Context, instanceID string) (Record, bool, error) {
	out, err := s.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.name(instanceID))})
	if awserr.Classify(err) == awserr.NotFound {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("get interruption record %s: %w", instanceID, err)
	}
	var r Record
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &r); err != nil {
		return Record{}, false, fmt.Errorf("interruption record %s: %w", instanceID, err)
	}
	return r, true, nil
}

// List reads every record; an unreadable one is skipped (it can only have been written by
// hand, and one bad value must not blind the breaker).
func (s SSMStore) List(ctx context.Context) ([]Record, error) {
	in := &ssm.GetParametersByPathInput{Path: aws.String(Path(s.Prefix)), MaxResults: aws.Int32(pageSize)}
	var out []Record
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list interruption records: more than %d pages", maxPages)
		}
		got, err := s.API.GetParametersByPath(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list interruption records: %w", err)
		}
		for _, p := range got.Parameters {
			var r Record
			if json.Unmarshal([]byte(aws.ToString(p.Value)), &r) == nil && r.InstanceID != "" {
				out = append(out, r)
			}
		}
		if aws.ToString(got.NextToken) == "" {
			return out, nil
		}
		in.NextToken = got.NextToken
	}
}

// Delete removes the records of instanceIDs, deleteBatch names per call.
func (s SSMStore) Delete(ctx context.Context, instanceIDs []string) error {
	for chunk := range slices.Chunk(instanceIDs, deleteBatch) {
		names := make([]string, len(chunk))
		for i, id := range chunk {
			names[i] = s.name(id)
		}
		if _, err := s.API.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: names}); err != nil {
			return fmt.Errorf("delete interruption records: %w", err)
		}
	}
	return nil
}
