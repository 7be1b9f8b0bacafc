package githubapp

import (
	"testing"
	"time"
)

func TestChoose(t *testing.T) {
	ready := Candidate{Installed: true}
	wait := func(d time.Duration) Candidate { return Candidate{Installed: true, Wait: d} }
	absent := Candidate{}
	tests := []struct {
		name  string
		cands []Candidate
		want  int
	}{
		{name: "no Apps", want: -1},
		{name: "none installed", cands: []Candidate{absent, absent}, want: -1},
		{name: "webhook App ready", cands: []Candidate{ready, ready, ready}, want: 0},
		{name: "webhook App spent: the next ready", cands: []Candidate{wait(time.Second), wait(2 * time.Second), ready, ready}, want: 2},
		{name: "webhook App not installed", cands: []Candidate{absent, ready}, want: 1},
		{name: "all spent: the soonest", cands: []Candidate{wait(3 * time.Second), wait(time.Second), wait(2 * time.Second)}, want: 1},
		{name: "all spent, tie: the earlier", cands: []Candidate{wait(2 * time.Second), wait(time.Second), wait(time.Second)}, want: 1},
		{name: "the soonest is not installed", cands: []Candidate{wait(3 * time.Second), {Wait: 0}, wait(2 * time.Second)}, want: 2},
		{name: "a negative wait is ready", cands: []Candidate{wait(time.Second), wait(-time.Second)}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Choose(tc.cands); got != tc.want {
				t.Fatalf("Choose(%+v) = %d, want %d", tc.cands, got, tc.want)
			}
		})
	}
}
