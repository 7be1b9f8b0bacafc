package queue

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// jobSeeds and lifecycleSeeds are the shapes the webhook produces plus near misses, so the
// fuzzer starts at the boundaries Validate draws.
var jobSeeds = []string{
	`{"v":1,"job_id":7,"run_id":3,"repo":"octo/app","owner":"octo","owner_type":"Organization","level":"org","installation_id":42,"labels":["self-hosted","linux"],"delivery_id":"d-1","queued_at":"2026-01-02T03:04:05Z","runner_config":"small"}`,
	`{"v":1,"job_id":7,"repo":"octo/app","owner":"octo/app","level":"repo","labels":[],"queued_at":"2026-01-02T03:04:05.123456789+05:30","runner_config":"k8s"}`,
	`{"v":1,"job_id":1,"repo":"a/b","owner":"a","level":"org","labels":null,"runner_config":"x"}`,
	`{"v":2,"job_id":7,"repo":"octo/app","owner":"octo","level":"org","runner_config":"small"}`,
	`{"V":1,"JOB_ID":7,"Repo":"o/r","owner":"o","level":"org","runner_config":"c","extra":{"x":[1,2]}}`,
	`{"v":1,"job_id":-1,"repo":"o/r","owner":"o","level":"org","runner_config":"c"}`,
	`{"v":1,"job_id":7,"repo":"o/r","owner":"o","level":"org","installation_id":-5,"runner_config":"c"}`,
	`{"v":1,"job_id":7,"repo":"o/r","owner":"o","level":"org","runner_config":"c","queued_at":"not a time"}`,
	`{"v":1.5}`, `[]`, `null`, `"v"`, `{`, ``,
}

var lifecycleSeeds = []string{
	`{"v":1,"action":"completed","job_id":9,"run_id":2,"repo":"o/r","owner":"o","owner_type":"User","installation_id":3,"labels":["linux"],"runner_id":5,"runner_name":"ghr-i-0abc","runner_group_id":1,"conclusion":"success","delivery_id":"d","at":"2026-01-02T03:04:05Z"}`,
	`{"v":1,"action":"in_progress","job_id":9,"repo":"o/r","owner":"o","at":"2026-01-02T03:04:05-07:00"}`,
	`{"v":1,"action":"queued","job_id":9,"repo":"o/r","owner":"o"}`,
	`{"v":0,"action":"completed","job_id":9,"repo":"o/r","owner":"o"}`,
	`{"v":1,"action":"completed","job_id":9,"repo":"","owner":"o"}`,
	`{"v":1,"action":"completed","job_id":9,"repo":"o/r","owner":"o","runner_id":"5"}`,
	`{}`, `[1]`, `nul`,
}

// FuzzDecodeJob: DecodeJob never panics; whatever it rejects is ErrInvalid (so consumers
// drop it rather than retry it forever); whatever it accepts re-validates, re-encodes and
// decodes to the same message.
func FuzzDecodeJob(f *testing.F) {
	for _, s := range jobSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := DecodeJob(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("accepted message does not validate: %v", err)
		}
		if j.V != Version || j.JobID <= 0 || j.RunnerConfig == "" || (j.Level != LevelOrg && j.Level != LevelRepo) {
			t.Fatalf("accepted an invalid message: %+v", j)
		}
		if _, err := DecodeRecheck(body); err == nil {
			t.Fatalf("a job decodes as a re-check: %s", body)
		}
		again := roundTrip(t, j, DecodeJob)
		if !sameTime(j.QueuedAt, again.QueuedAt) {
			t.Fatalf("queued_at changed: %v -> %v", j.QueuedAt, again.QueuedAt)
		}
		j.QueuedAt, again.QueuedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(j, again) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", j, again)
		}
	})
}

// FuzzDecodeLifecycle: the same properties for the lifecycle queue.
func FuzzDecodeLifecycle(f *testing.F) {
	for _, s := range lifecycleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := DecodeLifecycle(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("accepted message does not validate: %v", err)
		}
		if l.V != Version || l.JobID <= 0 || (l.Action != ActionInProgress && l.Action != ActionCompleted) {
			t.Fatalf("accepted an invalid message: %+v", l)
		}
		again := roundTrip(t, l, DecodeLifecycle)
		if !sameTime(l.At, again.At) {
			t.Fatalf("at changed: %v -> %v", l.At, again.At)
		}
		l.At, again.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(l, again) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", l, again)
		}
	})
}

var recheckSeeds = []string{
	`{"v":1,"kind":"recheck","check":1,"runner_config":"small","hosts":["i-0123456789abcdef0"],"jobs":[{"v":1,"job_id":7,"run_id":3,"repo":"octo/app","owner":"octo","owner_type":"Organization","level":"org","installation_id":42,"labels":["self-hosted"],"delivery_id":"d-1","queued_at":"2026-01-02T03:04:05Z","runner_config":"small"}],"registered_at":"2026-01-02T03:05:00Z"}`,
	`{"v":1,"kind":"recheck","check":3,"runner_config":"c","hosts":["i-01234567","i-89abcdef"],"jobs":[{"v":1,"job_id":1,"repo":"a/b","owner":"a/b","level":"repo","runner_config":"c","requeues":2,"relaunches":1},{"v":1,"job_id":2,"repo":"a/b","owner":"a/b","level":"repo","runner_config":"c"}]}`,
	`{"v":1,"kind":"recheck","check":1,"runner_config":"small","hosts":["i-0123456789abcdef0"],"jobs":[]}`,
	`{"v":1,"kind":"recheck","check":0,"runner_config":"small","hosts":["i-0"],"jobs":[{"v":1,"job_id":7}]}`,
	`{"v":1,"kind":"other","job_id":7,"repo":"o/r","owner":"o","level":"org","runner_config":"c"}`,
	`{"kind":"recheck"}`, `{"v":1,"kind":"recheck","hosts":null}`,
}

// FuzzDecodeRecheck: the same properties for re-checks, and what DecodeRecheck accepts is
// neither a job (an older scale-up must not launch for it) nor a lifecycle event.
func FuzzDecodeRecheck(f *testing.F) {
	for _, s := range append(append(recheckSeeds, jobSeeds...), lifecycleSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRecheck(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted message does not validate: %v", err)
		}
		if r.Kind != KindRecheck || KindOf(body) != KindRecheck || len(r.Jobs) == 0 || len(r.Hosts) == 0 {
			t.Fatalf("accepted an invalid message: %+v", r)
		}
		if _, err := DecodeJob(body); err == nil {
			t.Fatalf("a re-check decodes as a job: %s", body)
		}
		if _, err := DecodeLifecycle(body); err == nil {
			t.Fatalf("a re-check decodes as a lifecycle event: %s", body)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		again := roundTrip(t, r, DecodeRecheck)
		if b2, _ := json.Marshal(again); string(b) != string(b2) {
			t.Fatalf("round trip changed the message:\n%s\n%s", b, b2)
		}
	})
}

func roundTrip[M any](t *testing.T, m M, decode func([]byte) (M, error)) M {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("accepted message does not re-encode: %v", err)
	}
	again, err := decode(b)
	if err != nil {
		t.Fatalf("re-encoded message rejected: %v\n%s", err, b)
	}
	return again
}

// sameTime compares the instant and the offset: decoding builds a new *Location for each
// offset, so reflect.DeepEqual would see two equal times as different.
func sameTime(a, b time.Time) bool {
	_, ao := a.Zone()
	_, bo := b.Zone()
	return a.Equal(b) && ao == bo
}
