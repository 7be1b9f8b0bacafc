package redeliver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/awserr"
)

// maxMemoryBytes is a standard-tier SSM parameter's size limit (advanced tier costs money).
const maxMemoryBytes = 4096

// memoryVersion tags the stored JSON so a future layout is recognised, not misread.
const memoryVersion = 1

// MemoryPath is the parameter holding the redelivered GUIDs of a deployment.
func MemoryPath(prefix string) string { return "/" + prefix + "/redeliver/recent" }

// SSMAPI is the part of the SSM client the memory uses; *ssm.Client implements it.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// SSMMemory stores redelivered GUIDs with their redelivery time in one parameter.
type SSMMemory struct {
	API  SSMAPI
	Name string
}

type memoryDoc struct {
	V     int              `json:"v"`
	GUIDs map[string]int64 `json:"guids"` // GUID → unix seconds of the redelivery
}

// Load returns the remembered GUIDs; a parameter not created yet is an empty memory.
func (m SSMMemory) Load(ctx context.Context) (map[string]time.Time, error) {
	out, err := m.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(m.Name)})
	if awserr.Classify(err) == awserr.NotFound {
		return map[string]time.Time{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load redelivery memory: %w", err)
	}
	var doc memoryDoc
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &doc); err != nil || doc.V != memoryVersion {
		return nil, fmt.Errorf("load redelivery memory %s: unreadable (version %d): %v", m.Name, doc.V, err)
	}
	mem := make(map[string]time.Time, len(doc.GUIDs))
	for g, unix := range doc.GUIDs {
		mem[g] = time.Unix(unix, 0)
	}
	return mem, nil
}

// Save writes the memory, dropping the oldest entries until it fits one standard parameter.
func (m SSMMemory) Save(ctx context.Context, mem map[string]time.Time) error {
	body, err := encodeMemory(mem)
	if err != nil {
		return err
	}
	_, err = m.API.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(m.Name), Value: aws.String(string(body)), Type: types.ParameterTypeString,
		Tier: types.ParameterTierStandard, Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("save redelivery memory: %w", err)
	}
	return nil
}

func encodeMemory(mem map[string]time.Time) ([]byte, error) {
	guids := slices.SortedFunc(maps.Keys(mem), func(a, b string) int {
		return cmp.Or(mem[b].Compare(mem[a]), cmp.Compare(a, b)) // newest first
	})
	for {
		doc := memoryDoc{V: memoryVersion, GUIDs: make(map[string]int64, len(guids))}
		for _, g := range guids {
			doc.GUIDs[g] = mem[g].Unix()
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode redelivery memory: %w", err)
		}
		if len(body) <= maxMemoryBytes {
			return body, nil
		}
		// Drop the oldest tenth at a time: GitHub's redelivery=true attempts still guard them.
		guids = guids[:len(guids)-max(1, len(guids)/10)]
	}
}
