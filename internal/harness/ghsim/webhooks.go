package ghsim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
)

// Delivery status texts, as GitHub's deliveries API writes them.
const (
	deliveryOK        = "OK"
	deliveryTimeout   = "timed out"
	deliveryNoConnect = "failed to connect to host"
	// hookID is the App's webhook id in X-GitHub-Hook-ID; an App has one.
	hookID = 1
)

// sender is who triggers every event: workflow_job events carry the user who pushed.
var sender = Account{ID: 583231, Login: "octocat", Type: TypeUser}

// WebhookFaults are injected into first attempts (not redeliveries of lost ones, which
// would make recovery impossible to test deterministically; DropRate also applies to them).
type WebhookFaults struct {
	DropRate      float64 // lost: recorded as a timed-out failure, never sent
	DuplicateRate float64 // sent twice, same X-GitHub-Delivery, two records
	DelayRate     float64 // held back MinDelay to MaxDelay, so later events overtake it
	MinDelay      time.Duration
	MaxDelay      time.Duration
}

// Delivery is one delivery attempt, as GET /app/hook/deliveries lists it.
type Delivery struct {
	ID             int64
	GUID           string
	Event          string
	Action         string
	DeliveredAt    time.Time
	Duration       time.Duration
	Redelivery     bool
	Status         string // "OK", "Invalid HTTP Response: 503", "timed out", "failed to connect to host"
	StatusCode     int    // 0 when no answer came
	InstallationID int64
	RepositoryID   int64
	JobID          int64 // the workflow job the event is about
	URL            string
	Dropped        bool // lost by an injected fault
}

// OK reports a 2xx answer.
func (d Delivery) OK() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

type delivery struct {
	Delivery
	reqHeaders  map[string]string
	payload     []byte
	respHeaders map[string]string
	respBody    string
}

// attempt is one send waiting for a worker.
type attempt struct {
	guid, event, action string
	payload             []byte
	installationID      int64
	repositoryID        int64
	jobID               int64
	redelivery          bool
	first               bool // a new event; false for redeliveries
	// Faults, drawn when the attempt is queued so the faults in force at emission apply.
	drop, dup bool
	delay     time.Duration
}

type hooks struct {
	s      *Sim
	client *http.Client
	rng    *rng
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	url      string
	secret   string
	faults   WebhookFaults
	dropNext int
	pending  []*attempt
	busy     int
	closed   bool
	nextID   int64
	records  []*delivery // by id, ascending
}

func newHooks(s *Sim, o Options) *hooks {
	ctx, cancel := context.WithCancel(context.Background())
	h := &hooks{s: s, client: o.WebhookClient, rng: newRNG(o.Seed + 1), ctx: ctx, cancel: cancel,
		url: o.WebhookURL, secret: o.WebhookSecret, nextID: 90_000_000_000}
	h.cond = sync.NewCond(&h.mu)
	for range o.WebhookWorkers {
		h.wg.Add(1)
		go h.work()
	}
	return h
}

// SetWebhook sets the App's webhook URL and secret (deliveries made after this use them).
func (s *Sim) SetWebhook(url, secret string) {
	s.hooks.mu.Lock()
	s.hooks.url, s.hooks.secret = url, secret
	s.hooks.mu.Unlock()
}

// SetWebhookFaults injects delivery faults from now on.
func (s *Sim) SetWebhookFaults(f WebhookFaults) {
	s.hooks.mu.Lock()
	s.hooks.faults = f
	s.hooks.mu.Unlock()
}

// DropNextDeliveries loses the next n new events' first attempts (redeliveries get through):
// the deterministic way to test recovery of a lost webhook.
func (s *Sim) DropNextDeliveries(n int) {
	s.hooks.mu.Lock()
	s.hooks.dropNext += n
	s.hooks.mu.Unlock()
}

// Deliveries returns every delivery attempt, oldest first.
func (s *Sim) Deliveries() []Delivery {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Delivery, len(h.records))
	for i, d := range h.records {
		out[i] = d.Delivery
	}
	return out
}

// WaitDeliveries returns once no delivery is queued or in flight (injected delays included).
func (s *Sim) WaitDeliveries(ctx context.Context) error {
	h := s.hooks
	stop := context.AfterFunc(ctx, func() { h.mu.Lock(); h.cond.Broadcast(); h.mu.Unlock() })
	defer stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for (len(h.pending) > 0 && !h.closed) || h.busy > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		h.cond.Wait()
	}
	return nil
}

// emitJob emits a workflow_job event for j. GitHub sends App webhooks only for repositories
// the App is installed on. Caller holds s.mu.
func (s *Sim) emitJob(j *job, action string) {
	if j.InstallationID == 0 {
		return
	}
	p := map[string]any{
		"action": action, "workflow_job": s.jobJSON(j), "repository": s.repoJSON(j.repo),
		"sender":       s.userJSON(sender),
		"installation": map[string]any{"id": j.InstallationID, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", j.InstallationID)},
	}
	if j.repo.Owner.Type == TypeOrganization {
		p["organization"] = s.orgJSON(j.repo.Owner)
	}
	b, err := json.Marshal(p)
	if err != nil {
		s.opts.Logger.Error("ghsim: encode webhook", logging.KeyJobID, j.ID, logging.KeyError, err.Error())
		return
	}
	s.stats.hook(func(w *WebhookStats) { w.Emitted++ })
	s.hooks.enqueue(&attempt{guid: newGUID(), event: "workflow_job", action: action, payload: b,
		installationID: j.InstallationID, repositoryID: j.repo.ID, jobID: j.ID, first: true})
}

func (h *hooks) enqueue(a *attempt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	a.drop, a.dup, a.delay = h.decide(a)
	h.pending = append(h.pending, a)
	h.cond.Broadcast()
}

func (h *hooks) work() {
	defer h.wg.Done()
	for {
		h.mu.Lock()
		for len(h.pending) == 0 && !h.closed {
			h.cond.Wait()
		}
		if h.closed {
			h.mu.Unlock()
			return
		}
		a := h.pending[0]
		h.pending = slices.Delete(h.pending, 0, 1)
		h.busy++
		h.mu.Unlock()

		if a.delay > 0 {
			t := time.NewTimer(a.delay)
			select {
			case <-t.C:
			case <-h.ctx.Done():
				t.Stop()
			}
		}
		h.send(a, a.drop)
		if a.dup {
			h.s.stats.hook(func(w *WebhookStats) { w.Duplicated++ })
			h.send(a, false)
		}

		h.mu.Lock()
		h.busy--
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

// decide draws the faults of one attempt. Caller holds h.mu.
func (h *hooks) decide(a *attempt) (drop, dup bool, delay time.Duration) {
	f := h.faults
	if a.first && h.dropNext > 0 {
		h.dropNext--
		return true, false, 0
	}
	drop = f.DropRate > 0 && h.rng.float() < f.DropRate
	if !a.first {
		return drop, false, 0
	}
	dup = f.DuplicateRate > 0 && h.rng.float() < f.DuplicateRate
	if f.DelayRate > 0 && f.MaxDelay > 0 && h.rng.float() < f.DelayRate {
		delay = f.MinDelay + time.Duration(h.rng.float()*float64(max(f.MaxDelay-f.MinDelay, 0)))
	}
	return drop, dup, delay
}

// send delivers (or, dropped, loses) one attempt and records it.
func (h *hooks) send(a *attempt, drop bool) {
	h.mu.Lock()
	url, secret := h.url, h.secret
	h.mu.Unlock()
	d := &delivery{Delivery: Delivery{GUID: a.guid, Event: a.event, Action: a.action, Redelivery: a.redelivery,
		InstallationID: a.installationID, RepositoryID: a.repositoryID, JobID: a.jobID, URL: url,
		DeliveredAt: h.s.now()}, payload: a.payload}
	headers := map[string]string{
		"Accept": "*/*", "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/ghsim",
		"X-GitHub-Event": a.event, "X-GitHub-Delivery": a.guid, "X-GitHub-Hook-ID": strconv.Itoa(hookID),
		"X-GitHub-Hook-Installation-Target-ID":   strconv.FormatInt(h.s.opts.AppID, 10),
		"X-GitHub-Hook-Installation-Target-Type": "integration",
	}
	if secret != "" {
		headers["X-Hub-Signature"] = "sha1=" + sign(sha1.New, secret, a.payload)
		headers["X-Hub-Signature-256"] = "sha256=" + sign(sha256.New, secret, a.payload)
	}
	d.reqHeaders = headers
	switch {
	case drop:
		d.Status, d.Duration, d.Dropped = deliveryTimeout, webhookTimeout, true
	case url == "":
		d.Status = deliveryNoConnect
	default:
		h.post(d, url, headers)
	}
	h.mu.Lock()
	h.nextID++
	d.ID = h.nextID
	h.records = append(h.records, d)
	h.mu.Unlock()
	h.s.opts.Logger.Debug("webhook delivery", logging.KeyDeliveryID, d.GUID, logging.KeyJobID, d.JobID,
		"action", d.Action, "status", d.Status, "status_code", d.StatusCode, "redelivery", d.Redelivery)
	h.s.stats.hook(func(w *WebhookStats) {
		w.Attempts++
		if a.redelivery {
			w.Redelivered++
		}
		if d.Dropped {
			w.Dropped++
		}
		if d.OK() {
			w.Delivered++
		} else {
			w.Failed++
		}
	})
}

func (h *hooks) post(d *delivery, url string, headers map[string]string) {
	ctx, cancel := context.WithTimeout(h.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.payload))
	if err != nil {
		d.Status = deliveryNoConnect
		return
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := h.client.Do(req)
	d.Duration = time.Since(start)
	if err != nil {
		d.Status = deliveryNoConnect
		if errors.Is(err, context.DeadlineExceeded) {
			d.Status = deliveryTimeout
		}
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
	d.StatusCode, d.respBody = resp.StatusCode, string(body)
	d.respHeaders = map[string]string{}
	for k := range resp.Header {
		d.respHeaders[k] = resp.Header.Get(k)
	}
	d.Status = deliveryOK
	if !d.OK() {
		d.Status = "Invalid HTTP Response: " + strconv.Itoa(resp.StatusCode)
	}
}

func sign(newHash func() hash.Hash, secret string, body []byte) string {
	m := hmac.New(newHash, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// redeliver re-sends a recorded delivery: a new record, same GUID, redelivery true.
func (h *hooks) redeliver(id int64) bool {
	h.mu.Lock()
	i, found := slices.BinarySearchFunc(h.records, id, func(d *delivery, id int64) int { return cmp.Compare(d.ID, id) })
	if !found {
		h.mu.Unlock()
		return false
	}
	d := h.records[i]
	h.mu.Unlock()
	h.enqueue(&attempt{guid: d.GUID, event: d.Event, action: d.Action, payload: d.payload,
		installationID: d.InstallationID, repositoryID: d.RepositoryID, jobID: d.JobID, redelivery: true})
	return true
}

func (h *hooks) close(ctx context.Context) {
	h.mu.Lock()
	h.closed = true
	h.cond.Broadcast()
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	h.cancel()
	<-done
}
