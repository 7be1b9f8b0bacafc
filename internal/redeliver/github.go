package redeliver

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
)

// deliveriesPerPage is GitHub's largest page of deliveries.
const deliveriesPerPage = 100

// GitHub reads and redelivers the App's webhook deliveries (App JWT authentication).
type GitHub struct {
	App *githubapp.App
}

var _ Hooks = GitHub{}

// Page returns one page of deliveries, newest first, and the cursor of the next ("" at the end).
func (g GitHub) Page(ctx context.Context, cursor string) ([]Delivery, string, error) {
	ds, resp, err := g.App.AppClient().Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: deliveriesPerPage, Cursor: cursor})
	if err != nil {
		return nil, "", fmt.Errorf("list hook deliveries: %w", err)
	}
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = Delivery{
			ID: d.GetID(), GUID: d.GetGUID(), DeliveredAt: d.GetDeliveredAt().Time, Redelivery: d.GetRedelivery(),
			StatusCode: d.GetStatusCode(), Event: d.GetEvent(), Action: d.GetAction(),
		}
	}
	return out, resp.Cursor, nil
}

// Redeliver asks GitHub to deliver the attempt again. GitHub answers 202 Accepted, which
// go-github reports as an AcceptedError.
func (g GitHub) Redeliver(ctx context.Context, id int64) error {
	_, _, err := g.App.AppClient().Apps.RedeliverHookDelivery(ctx, id)
	var accepted *github.AcceptedError
	if err != nil && !errors.As(err, &accepted) {
		return fmt.Errorf("redeliver %d: %w", id, err)
	}
	return nil
}
