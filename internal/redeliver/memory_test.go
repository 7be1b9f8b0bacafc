package redeliver

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

func TestSSMMemoryOnMoto(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	api := ssm.NewFromConfig(motoserver.Start(t).AWSConfig())
	m := SSMMemory{API: api, Name: MemoryPath("ghr")}

	mem, err := m.Load(ctx)
	if err != nil || len(mem) != 0 {
		t.Fatalf("first load = %v, %v; want an empty memory", mem, err)
	}
	base := time.Unix(1_700_000_000, 0)
	want := map[string]Redelivered{"a": {Count: 1, Last: base}, "b": {Count: 3, Last: base.Add(time.Minute)}}
	if err := m.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := m.Load(ctx)
	if err != nil || len(got) != 2 || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("round trip = %v, %v; want %v", got, err, want)
	}

	// More GUIDs than fit in a standard parameter: the newest are kept.
	big := map[string]Redelivered{}
	for i := range 200 {
		big[fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)] = Redelivered{Count: 1 + i%maxRedeliveries, Last: base.Add(time.Duration(i) * time.Second)}
	}
	if err := m.Save(ctx, big); err != nil {
		t.Fatal(err)
	}
	got, err = m.Load(ctx)
	if err != nil || len(got) == 0 || len(got) >= 200 {
		t.Fatalf("capped memory has %d entries, %v", len(got), err)
	}
	if e := got["00000199-0000-0000-0000-000000000000"]; e != big["00000199-0000-0000-0000-000000000000"] {
		t.Errorf("newest entry = %v, want %v", e, big["00000199-0000-0000-0000-000000000000"])
	}
	if _, ok := got["00000000-0000-0000-0000-000000000000"]; ok {
		t.Error("oldest entry kept over newer ones")
	}

	put := func(value string) {
		t.Helper()
		if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(m.Name), Value: aws.String(value), Overwrite: aws.Bool(true), Type: "String"}); err != nil {
			t.Fatal(err)
		}
	}
	// What the at-most-once release wrote: each GUID redelivered once.
	put(`{"v":1,"guids":{"old":1700000000}}`)
	if got, err := m.Load(ctx); err != nil || got["old"] != (Redelivered{Count: 1, Last: base}) || len(got) != 1 {
		t.Errorf("at-most-once memory read as %v, %v", got, err)
	}
	put(`{"v":9}`)
	if _, err := m.Load(ctx); err == nil {
		t.Error("a memory of an unknown version was read")
	}
}

// TestMemoryLayoutReadByAtMostOnce: the release before bounded retries decoded
// {"v":1,"guids":{GUID: unix}} and must still read what this one writes (a rollback).
func TestMemoryLayoutReadByAtMostOnce(t *testing.T) {
	body, err := encodeMemory(map[string]Redelivered{"a": {Count: 1, Last: time.Unix(100, 0)}, "b": {Count: 2, Last: time.Unix(200, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	var old struct {
		V     int              `json:"v"`
		GUIDs map[string]int64 `json:"guids"`
	}
	if err := json.Unmarshal(body, &old); err != nil || old.V != 1 || old.GUIDs["a"] != 100 || old.GUIDs["b"] != 200 {
		t.Fatalf("%s read by the old layout as %+v, %v", body, old, err)
	}
	if want := `{"v":1,"guids":{"a":100,"b":200},"n":{"b":2}}`; string(body) != want {
		t.Errorf("encoded %s, want %s (counts of one left out to fit more GUIDs)", body, want)
	}
}
