package redeliver

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
)

// maxPages bounds one pass's listing (10,000 deliveries) even if the window is busy.
const maxPages = 100

// Time one pass may spend redelivering, spaced by postGap. passMargin is what the listing
// before and the memory write after need of the invocation's deadline; defaultPassWindow is
// the window without a deadline (the module's 120 s timeout less the margin).
const (
	passMargin        = 30 * time.Second
	defaultPassWindow = 90 * time.Second
)

// Hooks is the GitHub side: the App's delivery log.
type Hooks interface {
	Page(ctx context.Context, cursor string) ([]Delivery, string, error)
	Redeliver(ctx context.Context, id int64) error
}

// Memory remembers which GUIDs this function redelivered, how often and when last.
type Memory interface {
	Load(ctx context.Context) (map[string]Redelivered, error)
	Save(ctx context.Context, mem map[string]Redelivered) error
}

var _ Memory = SSMMemory{}

// Redeliverer runs scheduled passes.
type Redeliverer struct {
	Hooks      Hooks
	Memory     Memory
	Lookback   time.Duration
	MaxPerPass int
	Log        *slog.Logger
	Now        func() time.Time // nil means time.Now
	// Sleep waits between redeliveries (postGap); nil waits on a timer.
	Sleep   func(ctx context.Context, d time.Duration) error
	Metrics *metrics.Recorder // nil records nothing
}

// Result counts what a pass did.
type Result struct {
	Listed      int `json:"listed"`
	Pages       int `json:"pages"`
	Backlog     int `json:"backlog"` // deliveries eligible for redelivery
	Selected    int `json:"selected"`
	Redelivered int `json:"redelivered"`
	Retries     int `json:"retries"` // of Redelivered, events redelivered before
	Failed      int `json:"failed"`
}

// Run is one pass.
func (r *Redeliverer) Run(ctx context.Context) (Result, error) {
	var res Result
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	since := now.Add(-r.Lookback)
	mem, err := r.Memory.Load(ctx)
	if err != nil {
		return res, err // without the memory a pass could double a redelivery in flight
	}
	var all []Delivery
	for cursor := ""; res.Pages < maxPages; {
		page, next, err := r.Hooks.Page(ctx, cursor)
		if err != nil {
			return res, err
		}
		res.Pages++
		all = append(all, page...)
		// Newest first: once a page reaches past the window, older pages cannot matter.
		if next == "" || len(page) == 0 || page[len(page)-1].DeliveredAt.Before(since) {
			break
		}
		cursor = next
	}
	res.Listed = len(all)

	backlog := Select(all, mem, now, since, math.MaxInt)
	window := defaultPassWindow
	if deadline, ok := ctx.Deadline(); ok {
		window = max(0, time.Until(deadline)-passMargin)
	}
	chosen := backlog[:PassSize(len(backlog), r.MaxPerPass, SpentLastHour(all, mem, now), window)]
	res.Backlog = len(backlog)
	res.Selected = len(chosen)
	kept := make(map[string]Redelivered, len(mem)+len(chosen))
	maps.Copy(kept, mem)
	for g, e := range kept {
		if e.Last.Before(since) {
			delete(kept, g) // its deliveries are outside the window: never selected again
		}
	}
	if len(chosen) == 0 {
		if len(kept) != len(mem) {
			return res, r.Memory.Save(ctx, kept)
		}
		return res, nil
	}
	// Write ahead: a crash after this means "counted, not made", never "made twice at once".
	before := make(map[string]Redelivered, len(chosen))
	for _, d := range chosen {
		before[d.GUID] = kept[d.GUID]
		kept[d.GUID] = Redelivered{Count: kept[d.GUID].Count + 1, Last: now}
	}
	// undo forgets a redelivery not made, so that a later pass may try at once.
	undo := func(guid string) {
		if prev := before[guid]; prev.Count > 0 {
			kept[guid] = prev
		} else {
			delete(kept, guid)
		}
	}
	if err := r.Memory.Save(ctx, kept); err != nil {
		return res, err
	}
	for i, d := range chosen {
		if i > 0 {
			if err := r.sleep(ctx, postGap); err != nil {
				for _, rest := range chosen[i:] {
					undo(rest.GUID)
				}
				res.Failed += len(chosen) - i
				break
			}
		}
		log := r.Log.With(logging.KeyDeliveryID, d.GUID, "hook_delivery_id", strconv.FormatInt(d.ID, 10), "action", d.Action,
			"status_code", d.StatusCode, "redeliveries", d.Redeliveries)
		if err := r.Hooks.Redeliver(ctx, d.ID); err != nil {
			res.Failed++
			undo(d.GUID)
			log.Warn("redelivery failed", logging.KeyError, err.Error())
			if _, limited := githubapp.RateLimitWait(err); limited {
				for _, rest := range chosen[i+1:] {
					undo(rest.GUID)
				}
				res.Failed += len(chosen) - i - 1
				break
			}
			continue
		}
		res.Redelivered++
		r.Metrics.Add(metrics.Redeliveries, 1)
		if d.Redeliveries > 0 {
			res.Retries++
		}
		log.Info("delivery redelivered", "delivered_at", d.DeliveredAt)
	}
	if res.Failed > 0 {
		if err := r.Memory.Save(ctx, kept); err != nil {
			// The failed GUIDs stay remembered as redelivered: counted towards the bound and
			// retried after the backoff, never doubled.
			return res, err
		}
	}
	return res, nil
}

func (r *Redeliverer) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handle is the scheduled Lambda entry point: one pass, its counts logged and returned.
func (r *Redeliverer) Handle(ctx context.Context) (Result, error) {
	res, err := r.Run(ctx)
	r.Log.Info("redelivery pass done", "result", res)
	if err != nil {
		r.Log.Error("redelivery pass failed", logging.KeyError, err.Error())
		return res, fmt.Errorf("redeliver: %w", err)
	}
	return res, nil
}
