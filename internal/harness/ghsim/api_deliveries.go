package ghsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// cursorPrefix marks the delivery cursors this simulator issues ("v1_<id>", as GitHub's
// look); a cursor lists deliveries older than that id.
const cursorPrefix = "v1_"

func deliveryItem(d *delivery) map[string]any {
	var action any
	if d.Action != "" {
		action = d.Action
	}
	return map[string]any{
		"id": d.ID, "guid": d.GUID, "delivered_at": d.DeliveredAt.Format(timeFormat), "redelivery": d.Redelivery,
		"duration": d.Duration.Seconds(), "status": d.Status, "status_code": d.StatusCode, "event": d.Event,
		"action": action, "installation_id": d.InstallationID, "repository_id": d.RepositoryID, "throttled_at": nil,
	}
}

// GET /app/hook/deliveries: newest first, cursor-paged with a Link rel="next".
func (s *Sim) listDeliveries(w http.ResponseWriter, r *http.Request, id identity) {
	if id.app.ID != s.opts.AppID {
		// The other Apps (AddApp) have no webhook, so no deliveries.
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	q := r.URL.Query()
	_, per := paging(r)
	before := int64(-1)
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(c, cursorPrefix), 10, 64)
		if err != nil || !strings.HasPrefix(c, cursorPrefix) {
			writeError(w, http.StatusBadRequest, "Invalid cursor", docDeliveries)
			return
		}
		before = n
	}
	status := q.Get("status")
	if status != "" && status != "success" && status != "failure" {
		writeFieldValidation(w, docDeliveries, fieldError{Resource: "HookDelivery", Field: "status", Code: "invalid"})
		return
	}
	h := s.hooks
	h.mu.Lock()
	var page []map[string]any
	more, last := false, int64(0)
	for i := len(h.records) - 1; i >= 0; i-- {
		d := h.records[i]
		if before >= 0 && d.ID >= before || !statusMatches(d, status) {
			continue
		}
		if len(page) == per {
			more = true
			break
		}
		page = append(page, deliveryItem(d))
		last = d.ID
	}
	h.mu.Unlock()
	if more {
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", pageURL(r, url.Values{"cursor": {cursorPrefix + strconv.FormatInt(last, 10)}, "per_page": {strconv.Itoa(per)}})))
	}
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, page)
}

// statusMatches applies the status filter as documented: success is status_code 200-399,
// failure 400-599. A delivery that got no answer (status_code 0) matches neither, so a
// redelivery tool must not rely on the filter to find lost deliveries.
func statusMatches(d *delivery, status string) bool {
	switch status {
	case "success":
		return d.StatusCode >= 200 && d.StatusCode < 400
	case "failure":
		return d.StatusCode >= 400 && d.StatusCode < 600
	}
	return true
}

func (s *Sim) deliveryByPath(w http.ResponseWriter, r *http.Request) (*delivery, bool) {
	id, ok := pathID(w, r, docDeliveries)
	if !ok {
		return nil, false
	}
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.records {
		if d.ID == id {
			return d, true
		}
	}
	writeError(w, http.StatusNotFound, msgNotFound, docDeliveries)
	return nil, false
}

// GET /app/hook/deliveries/{id}: the item plus the request and response.
func (s *Sim) getDelivery(w http.ResponseWriter, r *http.Request, _ identity) {
	d, ok := s.deliveryByPath(w, r)
	if !ok {
		return
	}
	out := deliveryItem(d)
	out["url"] = d.URL
	var payload map[string]any
	_ = json.Unmarshal(d.payload, &payload)
	out["request"] = map[string]any{"headers": d.reqHeaders, "payload": payload}
	var respHeaders, respBody any
	if d.respHeaders != nil {
		respHeaders, respBody = d.respHeaders, d.respBody
	}
	out["response"] = map[string]any{"headers": respHeaders, "payload": respBody}
	writeJSON(w, http.StatusOK, out)
}

// POST /app/hook/deliveries/{id}/attempts: 202, then the delivery is sent again.
func (s *Sim) redeliverDelivery(w http.ResponseWriter, r *http.Request, _ identity) {
	id, ok := pathID(w, r, docDeliveries)
	if !ok {
		return
	}
	if !s.hooks.redeliver(id) {
		writeError(w, http.StatusNotFound, msgNotFound, docDeliveries)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{})
}
