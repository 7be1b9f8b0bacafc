package redeliver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/testutil/motoserver"
)

func TestSSMMemoryOnMoto(t *testing.T) {
	ctx := context.Background()
	api := ssm.NewFromConfig(motoserver.Start(t).AWSConfig())
	m := SSMMemory{API: api, Name: MemoryPath("ghr")}

	mem, err := m.Load(ctx)
	if err != nil || len(mem) != 0 {
		t.Fatalf("first load = %v, %v; want an empty memory", mem, err)
	}
	base := time.Unix(1_700_000_000, 0)
	want := map[string]time.Time{"a": base, "b": base.Add(time.Minute)}
	if err := m.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := m.Load(ctx)
	if err != nil || len(got) != 2 || !got["a"].Equal(base) || !got["b"].Equal(base.Add(time.Minute)) {
		t.Fatalf("round trip = %v, %v", got, err)
	}

	// More GUIDs than fit in a standard parameter: the newest are kept.
	big := map[string]time.Time{}
	for i := range 200 {
		big[fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)] = base.Add(time.Duration(i) * time.Second)
	}
	if err := m.Save(ctx, big); err != nil {
		t.Fatal(err)
	}
	got, err = m.Load(ctx)
	if err != nil || len(got) == 0 || len(got) >= 200 {
		t.Fatalf("capped memory has %d entries, %v", len(got), err)
	}
	if _, ok := got["00000199-0000-0000-0000-000000000000"]; !ok {
		t.Error("newest entry dropped")
	}
	if _, ok := got["00000000-0000-0000-0000-000000000000"]; ok {
		t.Error("oldest entry kept over newer ones")
	}

	if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(m.Name), Value: aws.String(`{"v":9}`), Overwrite: aws.Bool(true), Type: "String"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Load(ctx); err == nil {
		t.Error("a memory of an unknown version was read")
	}
}
