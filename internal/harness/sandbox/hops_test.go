package sandbox

import (
	"strings"
	"testing"
	"time"
)

var hopT0 = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

// at is hopT0 plus ms milliseconds, as the functions log it.
func at(ms int) string {
	return hopT0.Add(time.Duration(ms) * time.Millisecond).Format(time.RFC3339Nano)
}

func ms(n int) time.Time { return hopT0.Add(time.Duration(n) * time.Millisecond) }

func TestJobPaths(t *testing.T) {
	log := strings.Join([]string{
		`terraform noise, not JSON`,
		strings.Repeat("an emulator's dump longer than the reader's buffer ", 4<<10),
		// Job 1: delivered twice (a redelivery after GitHub gave up), deferred once, then launched.
		`{"msg":"webhook","job_id":1,"decision":"accepted","received_at":"` + at(50) + `","enqueued_at":"` + at(60) + `"}`,
		`{"msg":"webhook","job_id":1,"decision":"accepted","received_at":"` + at(0) + `","enqueued_at":"` + at(20) + `"}`,
		`{"msg":"job","job_id":1,"decision":"over_cap","batch_received_at":"` + at(30) + `"}`,
		`{"msg":"fleet","instance_ids":["i-1","i-2"],"fleet_requested_at":"` + at(100) + `","fleet_returned_at":"` + at(150) + `"}`,
		`{"msg":"job","job_id":1,"decision":"launched","instance_id":"i-1","batch_received_at":"` + at(90) + `","token_stored_at":"` + at(200) + `"}`,
		// Job 2: launched a second time after its first host died: the first launch counts.
		`{"msg":"webhook","job_id":2,"decision":"accepted","received_at":"` + at(5) + `","enqueued_at":"` + at(25) + `"}`,
		`{"msg":"job","job_id":2,"decision":"launched","instance_id":"i-9","batch_received_at":"` + at(900) + `","token_stored_at":"` + at(950) + `"}`,
		`{"msg":"job","job_id":2,"decision":"launched","instance_id":"i-2","batch_received_at":"` + at(90) + `","token_stored_at":"` + at(210) + `"}`,
		// Job 3: its enqueue failed and it was never launched; job 4 is another scenario's.
		`{"msg":"enqueue failed","job_id":3,"received_at":"` + at(0) + `"}`,
		`{"msg":"webhook","job_id":3,"decision":"accepted","received_at":"` + at(0) + `"}`,
		`{"msg":"webhook","job_id":4,"decision":"accepted","received_at":"` + at(0) + `","enqueued_at":"` + at(1) + `"}`,
		// A completed job's lifecycle delivery is not the job's intake.
		`{"msg":"webhook","job_id":2,"decision":"action completed sent to lifecycle queue","received_at":"` + at(3000) + `","enqueued_at":"` + at(3010) + `"}`,
		// Job 5 has no webhook line (its delivery was logged before the log began), and its
		// line is the log's last, without its newline yet.
		`{"msg":"job","job_id":5,"decision":"launched","instance_id":"i-5","batch_received_at":"` + at(40) + `","token_stored_at":"` + at(300) + `"}`,
	}, "\n")
	hosts := HostRecords{
		TokenRead: func(id string) (time.Time, bool) { return map[string]time.Time{"i-1": ms(700)}[id], id == "i-1" },
		Online:    func(id string) (time.Time, bool) { return map[string]time.Time{"i-1": ms(900)}[id], id == "i-1" },
	}
	got, err := JobPaths(strings.NewReader(log), []int64{1, 2, 3, 5}, hosts)
	if err != nil {
		t.Fatal(err)
	}
	want := []JobPath{
		{JobID: 1, InstanceID: "i-1", Received: ms(0), Enqueued: ms(20), BatchReceived: ms(90), FleetRequested: ms(100), FleetReturned: ms(150),
			TokenStored: ms(200), TokenRead: ms(700), Online: ms(900)},
		{JobID: 2, InstanceID: "i-2", Received: ms(5), Enqueued: ms(25), BatchReceived: ms(90), FleetRequested: ms(100), FleetReturned: ms(150),
			TokenStored: ms(210)},
		{JobID: 5, InstanceID: "i-5", BatchReceived: ms(40), TokenStored: ms(300)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d paths %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !samePath(got[i], want[i]) {
			t.Errorf("path %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

func samePath(a, b JobPath) bool {
	times := func(p JobPath) []time.Time {
		return []time.Time{p.Received, p.Enqueued, p.BatchReceived, p.FleetRequested, p.FleetReturned, p.TokenStored, p.TokenRead, p.Online}
	}
	ta, tb := times(a), times(b)
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	return a.JobID == b.JobID && a.InstanceID == b.InstanceID
}

func TestHopStats(t *testing.T) {
	full := func(off int) JobPath {
		return JobPath{Received: ms(off), Enqueued: ms(off + 10), BatchReceived: ms(off + 30), FleetRequested: ms(off + 60),
			FleetReturned: ms(off + 100), TokenStored: ms(off + 150), TokenRead: ms(off + 2150), Online: ms(off + 2400)}
	}
	slowQueue := full(0)
	slowQueue.BatchReceived, slowQueue.FleetRequested = ms(530), ms(560) // a batching window's wait
	clockSkew := full(0)
	clockSkew.Enqueued = ms(-5) // enqueued "before" received: counted as 0, not dropped
	noHost := full(0)
	noHost.TokenRead, noHost.Online = time.Time{}, time.Time{}
	tests := []struct {
		name  string
		paths []JobPath
		hop   string
		jobs  int
		p50   float64
		p99   float64
	}{
		{"no paths", nil, HopToFleet, 0, 0, 0},
		{"one leg", []JobPath{full(0), full(1000)}, "CreateFleet requested → returned", 2, 0.040, 0.040},
		{"to the fleet spans three legs", []JobPath{full(0), slowQueue}, HopToFleet, 2, 0.060, 0.560},
		{"the slow leg is the queue's", []JobPath{full(0), slowQueue}, "enqueued → batch received by scale-up", 2, 0.020, 0.520},
		{"a negative span counts as 0", []JobPath{clockSkew}, "webhook received → enqueued", 1, 0, 0},
		{"a path without its host counts where it has both ends", []JobPath{full(0), noHost}, "JIT config stored → host read its token", 1, 2, 2},
		{"whole path", []JobPath{full(0), noHost}, HopTotal, 1, 2.4, 2.4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := HopStats(tt.paths)
			if len(stats) != len(hops) {
				t.Fatalf("%d stats, want one per hop (%d)", len(stats), len(hops))
			}
			for _, s := range stats {
				if s.Name != tt.hop {
					continue
				}
				if s.Jobs != tt.jobs || !near(s.P.P50, tt.p50) || !near(s.P.P99, tt.p99) {
					t.Errorf("%s: jobs %d p50 %g p99 %g, want %d, %g, %g", s.Name, s.Jobs, s.P.P50, s.P.P99, tt.jobs, tt.p50, tt.p99)
				}
				return
			}
			t.Fatalf("no hop %q", tt.hop)
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestHopTableInReport(t *testing.T) {
	r := &Report{Jobs: 1, Completed: 1, Hops: HopStats([]JobPath{{Received: ms(0), FleetRequested: ms(120)}})}
	md := r.Markdown()
	if !strings.Contains(md, "| "+HopToFleet+" | 1 | 120 ms | 120 ms | 120 ms | 120 ms |") {
		t.Errorf("report lacks the hop row:\n%s", md)
	}
	r.Hops, r.HopsError = nil, "function logs: gone"
	if md := r.Markdown(); !strings.Contains(md, "Per hop: not measured (function logs: gone)") {
		t.Errorf("report hides why hops are missing:\n%s", md)
	}
}
