package scaleup_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

// Each launched job's log line names its host and carries the milestones of its path (batch
// received, token stored), and the fleet line the CreateFleet request's: the per-hop latency
// report pairs them by job id and instance id (docs/metrics.md).
func TestLogsCarryLaunchMilestones(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.h.Launcher.Compute.(*scaleup.EC2Compute).Fleet.Logger = slog.New(slog.NewJSONHandler(w.log, nil))
	if retried := w.handle(sqsEvent(t, job(1, "linux", "octo"), job(2, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	type line struct {
		Msg         string    `json:"msg"`
		JobID       int64     `json:"job_id"`
		Decision    string    `json:"decision"`
		InstanceID  string    `json:"instance_id"`
		InstanceIDs []string  `json:"instance_ids"`
		Batch       time.Time `json:"batch_received_at"`
		Requested   time.Time `json:"fleet_requested_at"`
		Returned    time.Time `json:"fleet_returned_at"`
		Stored      time.Time `json:"token_stored_at"`
	}
	var fleets []line
	jobs := map[int64]line{}
	sc := bufio.NewScanner(w.log)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		switch l.Msg {
		case "fleet":
			fleets = append(fleets, l)
		case "job":
			jobs[l.JobID] = l
		}
	}
	if len(fleets) != 1 || len(fleets[0].InstanceIDs) != 2 || fleets[0].Requested.IsZero() || fleets[0].Returned.Before(fleets[0].Requested) {
		t.Fatalf("fleet lines %+v, want one with both instances and its request's times", fleets)
	}
	hosts := map[string]bool{}
	for _, id := range []int64{1, 2} {
		j := jobs[id]
		if j.Decision != "launched" || !slices.Contains(fleets[0].InstanceIDs, j.InstanceID) || hosts[j.InstanceID] {
			t.Errorf("job %d: %+v, want launched on its own host of the fleet %v", id, j, fleets[0].InstanceIDs)
		}
		hosts[j.InstanceID] = true
		if j.Batch.IsZero() || fleets[0].Requested.Before(j.Batch) || j.Stored.Before(fleets[0].Returned) {
			t.Errorf("job %d: batch %s, fleet %s-%s, token stored %s: out of order", id, j.Batch, fleets[0].Requested, fleets[0].Returned, j.Stored)
		}
	}
}
