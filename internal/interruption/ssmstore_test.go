package interruption

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// The store against moto: one parameter per instance, paged listing beyond one page, an
// absent record is no error, deletes in batches.
func TestSSMStore(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	st := SSMStore{API: ssm.NewFromConfig(motoserver.Start(t).AWSConfig()), Prefix: "ghr-store"}
	if _, ok, err := st.Get(ctx, inst); ok || err != nil {
		t.Fatalf("absent record: ok %v, err %v", ok, err)
	}
	var ids []string
	for i := range 2*pageSize + 3 {
		id := fmt.Sprintf("i-%017x", i+1)
		ids = append(ids, id)
		if err := st.Put(ctx, Record{InstanceID: id, Config: "small", RunnerID: int64(i + 1), At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	rec := Record{InstanceID: ids[0], Config: "small", RunnerID: 1, At: t0, Rerun: &Rerun{Repo: "octo/app", RunID: 7, JobID: 9, At: t0.Add(time.Minute)}}
	if err := st.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Get(ctx, ids[0])
	if err != nil || !ok || got.Rerun == nil || got.Rerun.RunID != 7 || !got.At.Equal(t0) {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
	all, err := st.List(ctx)
	if err != nil || len(all) != len(ids) {
		t.Fatalf("List = %d records, %v; want %d", len(all), err, len(ids))
	}
	if err := st.Delete(ctx, ids[:pageSize+1]); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.List(ctx); len(all) != len(ids)-pageSize-1 {
		t.Fatalf("after delete: %d records", len(all))
	}
}
