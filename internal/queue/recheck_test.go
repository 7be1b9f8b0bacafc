package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func validRecheck() Recheck {
	j2 := validJob()
	j2.JobID = 8
	return Recheck{V: Version, Kind: KindRecheck, Check: 1, RunnerConfig: "small", Hosts: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"},
		Jobs: []Job{validJob(), j2}, RegisteredAt: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)}
}

func TestDecodeRecheckRoundTrip(t *testing.T) {
	in := validRecheck()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if KindOf(b) != KindRecheck {
		t.Fatalf("KindOf = %q", KindOf(b))
	}
	out, err := DecodeRecheck(b)
	if err != nil {
		t.Fatalf("DecodeRecheck: %v", err)
	}
	again, _ := json.Marshal(out)
	if !bytes.Equal(b, again) {
		t.Fatalf("round trip changed the message:\n%s\n%s", b, again)
	}
}

func TestDecodeRecheckRejects(t *testing.T) {
	mutate := map[string]func(*Recheck){
		"unknown version":       func(r *Recheck) { r.V = 2 },
		"no kind":               func(r *Recheck) { r.Kind = "" },
		"check 0":               func(r *Recheck) { r.Check = 0 },
		"no config":             func(r *Recheck) { r.RunnerConfig = "" },
		"no hosts":              func(r *Recheck) { r.Hosts = nil },
		"not an instance id":    func(r *Recheck) { r.Hosts[0] = "i-xyz" },
		"no jobs":               func(r *Recheck) { r.Jobs = nil },
		"invalid job":           func(r *Recheck) { r.Jobs[0].JobID = 0 },
		"job of another config": func(r *Recheck) { r.Jobs[1].RunnerConfig = "large" },
		"job twice":             func(r *Recheck) { r.Jobs[1].JobID = r.Jobs[0].JobID },
		"too many hosts": func(r *Recheck) {
			for len(r.Hosts) <= MaxRecheckHosts {
				r.Hosts = append(r.Hosts, r.Hosts[0])
			}
		},
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			r := validRecheck()
			m(&r)
			b, _ := json.Marshal(r)
			if _, err := DecodeRecheck(b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// A consumer that predates re-checks must drop one as invalid: scale-up must never launch
// for it, nor clean-up act on it. And no job or lifecycle event passes for a re-check.
func TestRecheckIsNoJobOrLifecycle(t *testing.T) {
	r := validRecheck()
	b, _ := json.Marshal(r)
	if _, err := DecodeJob(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DecodeJob accepted a re-check: %v", err)
	}
	if _, err := DecodeLifecycle(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DecodeLifecycle accepted a re-check: %v", err)
	}
	for _, s := range append(append([]string{}, jobSeeds[:3]...), lifecycleSeeds[:2]...) {
		if KindOf([]byte(s)) != "" {
			t.Fatalf("KindOf(%s) = %q", s, KindOf([]byte(s)))
		}
		if _, err := DecodeRecheck([]byte(s)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("DecodeRecheck accepted %s", s)
		}
	}
}
