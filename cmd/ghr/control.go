package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
)

// The control endpoint is part of the local harness, not of the simulated GitHub: queueing a
// job is what a push does on GitHub, which has no API for it, so it lives on its own port.
const (
	controlReadTimeout = 10 * time.Second
	maxControlBody     = 64 << 10 // a job spec is a few hundred bytes
)

// queueRequest is the control endpoint's POST /jobs body and `ghr sim queue`'s flags.
type queueRequest struct {
	Repo     string   `json:"repo"`
	Labels   []string `json:"labels"`
	Duration string   `json:"duration,omitempty"` // how long the simulated runner works, e.g. "5s"
	Name     string   `json:"name,omitempty"`
}

type queuedJob struct {
	ID     int64    `json:"id"`
	RunID  int64    `json:"run_id"`
	Repo   string   `json:"repo"`
	Labels []string `json:"labels"`
	Status string   `json:"status"`
}

type control struct {
	URL string
	srv *http.Server
}

// startControl serves POST /jobs (queue one) and GET /jobs/{id} (its state) for sim on a free
// loopback port until Close.
func startControl(ctx context.Context, sim *ghsim.Sim) (*control, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		var q queueRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody)).Decode(&q); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		var d time.Duration
		if q.Duration != "" {
			if d, err = time.ParseDuration(q.Duration); err != nil || d < 0 {
				http.Error(w, "duration: want a Go duration like 5s", http.StatusBadRequest)
				return
			}
		}
		j, err := sim.QueueJob(ghsim.JobSpec{Repo: q.Repo, Labels: q.Labels, Duration: d, Name: q.Name})
		switch {
		case errors.Is(err, ghsim.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		default:
			writeJob(w, j)
		}
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		var id int64
		if _, err := fmt.Sscan(r.PathValue("id"), &id); err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		j, ok := sim.Job(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJob(w, j)
	})
	c := &control{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: controlReadTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx }}}
	go c.srv.Serve(ln) //nolint:errcheck // ends with Close
	return c, nil
}

func writeJob(w http.ResponseWriter, j ghsim.Job) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(queuedJob{ID: j.ID, RunID: j.RunID, Repo: j.Repo, Labels: j.Labels, Status: j.Status})
}

func (c *control) Close() { c.srv.Close() }
