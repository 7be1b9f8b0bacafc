package redeliver

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"time"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
)

// maxPages bounds one pass's listing (10,000 deliveries) even if the window is busy.
const maxPages = 100

// Hooks is the GitHub side: the App's delivery log.
type Hooks interface {
	Page(ctx context.Context, cursor string) ([]Delivery, string, error)
	Redeliver(ctx context.Context, id int64) error
}

// Memory remembers which GUIDs this function redelivered.
type Memory interface {
	Load(ctx context.Context) (map[string]time.Time, error)
	Save(ctx context.Context, mem map[string]time.Time) error
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
}

// Result counts what a pass did.
type Result struct {
	Listed      int `json:"listed"`
	Pages       int `json:"pages"`
	Selected    int `json:"selected"`
	Redelivered int `json:"redelivered"`
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
		return res, err // without the memory a pass could repeat a redelivery
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

	chosen := Select(all, mem, since, r.MaxPerPass)
	res.Selected = len(chosen)
	kept := maps.Clone(mem)
	for g, at := range kept {
		if at.Before(since) {
			delete(kept, g) // its deliveries are outside the window: never selected again
		}
	}
	if len(chosen) == 0 {
		if len(kept) != len(mem) {
			return res, r.Memory.Save(ctx, kept)
		}
		return res, nil
	}
	// Write ahead: a crash after this means "not redelivered", never "redelivered twice".
	for _, d := range chosen {
		kept[d.GUID] = now
	}
	if err := r.Memory.Save(ctx, kept); err != nil {
		return res, err
	}
	for i, d := range chosen {
		log := r.Log.With(logging.KeyDeliveryID, d.GUID, "hook_delivery_id", strconv.FormatInt(d.ID, 10), "action", d.Action, "status_code", d.StatusCode)
		if err := r.Hooks.Redeliver(ctx, d.ID); err != nil {
			res.Failed++
			delete(kept, d.GUID) // not redelivered: a later pass may try
			log.Warn("redelivery failed", logging.KeyError, err.Error())
			if _, limited := githubapp.RateLimitWait(err); limited {
				for _, rest := range chosen[i+1:] {
					delete(kept, rest.GUID)
				}
				res.Failed += len(chosen) - i - 1
				break
			}
			continue
		}
		res.Redelivered++
		log.Info("delivery redelivered", "delivered_at", d.DeliveredAt)
	}
	if res.Failed > 0 {
		if err := r.Memory.Save(ctx, kept); err != nil {
			// The failed GUIDs stay remembered: they will not be retried, which keeps the
			// at-most-once promise.
			return res, err
		}
	}
	return res, nil
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
