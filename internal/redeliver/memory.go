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

// SSMMemory stores, per redelivered GUID, our redelivery count and last time in one parameter.
type SSMMemory struct {
	API  SSMAPI
	Name string
}

// memoryDoc keeps the layout of the at-most-once releases (GUID → unix seconds) and adds the
// counts above one in a separate map: most GUIDs are redelivered once, so the 4 KB holds as
// many as before, and either release reads what the other wrote.
type memoryDoc struct {
	V      int              `json:"v"`
	GUIDs  map[string]int64 `json:"guids"`       // GUID → unix seconds of the last redelivery
	Counts map[string]int   `json:"n,omitempty"` // GUID → redeliveries, when more than one
}

// Load returns the remembered GUIDs; a parameter not created yet is an empty memory.
func (m SSMMemory) Load(ctx context.Context) (map[string]Redelivered, error) {
	out, err := m.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(m.Name)})
	if awserr.Classify(err) == awserr.NotFound {
		return map[string]Redelivered{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load redelivery memory: %w", err)
	}
	mem, err := decodeMemory([]byte(aws.ToString(out.Parameter.Value)))
	if err != nil {
		return nil, fmt.Errorf("load redelivery memory %s: %w", m.Name, err)
	}
	return mem, nil
}

func decodeMemory(body []byte) (map[string]Redelivered, error) {
	var doc memoryDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	if doc.V != memoryVersion {
		return nil, fmt.Errorf("unknown version %d", doc.V)
	}
	mem := make(map[string]Redelivered, len(doc.GUIDs))
	for g, unix := range doc.GUIDs {
		mem[g] = Redelivered{Last: time.Unix(unix, 0), Count: max(1, doc.Counts[g])}
	}
	return mem, nil
}

// Save writes the memory, dropping the oldest entries until it fits one standard parameter.
func (m SSMMemory) Save(ctx context.Context, mem map[string]Redelivered) error {
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

func encodeMemory(mem map[string]Redelivered) ([]byte, error) {
	guids := slices.SortedFunc(maps.Keys(mem), func(a, b string) int {
		return cmp.Or(mem[b].Last.Compare(mem[a].Last), cmp.Compare(a, b)) // newest first
	})
	for {
		doc := memoryDoc{V: memoryVersion, GUIDs: make(map[string]int64, len(guids)), Counts: map[string]int{}}
		for _, g := range guids {
			doc.GUIDs[g] = mem[g].Last.Unix()
			if n := mem[g].Count; n > 1 {
				doc.Counts[g] = n
			}
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode redelivery memory: %w", err)
		}
		if len(body) <= maxMemoryBytes {
			return body, nil
		}
		// Drop the oldest tenth at a time: GitHub lists their redelivery=true attempts by now.
		guids = guids[:len(guids)-max(1, len(guids)/10)]
	}
}
