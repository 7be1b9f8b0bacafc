package ghsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Documentation links GitHub puts in error bodies.
const (
	docAuth         = "https://docs.github.com/rest"
	docRunners      = "https://docs.github.com/rest/actions/self-hosted-runners"
	docDeliveries   = "https://docs.github.com/rest/apps/webhooks"
	docInstallation = "https://docs.github.com/rest/apps/apps"
	docJobs         = "https://docs.github.com/rest/actions/workflow-jobs#get-a-job-for-a-workflow-run"
	docReleases     = "https://docs.github.com/rest/releases/releases"
)

const (
	msgNotFound      = "Not Found"
	msgNotAccessible = "Resource not accessible by integration"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes GitHub's error body: message, documentation_url and, except on a 422
// (whose schemas do not declare it), status.
func writeError(w http.ResponseWriter, status int, msg, doc string) {
	body := map[string]string{"message": msg, "documentation_url": doc}
	if status != http.StatusUnprocessableEntity {
		body["status"] = strconv.Itoa(status)
	}
	writeJSON(w, status, body)
}

// writeValidation writes GitHub's 422 "Validation Failed" body in its simple form (errors
// as strings), as the runner endpoints answer.
func writeValidation(w http.ResponseWriter, doc string, errs ...string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": errs, "documentation_url": doc})
}

// fieldError is one entry of GitHub's full validation-error form.
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
}

// writeFieldValidation writes the full 422 form (errors as objects), as most other
// endpoints answer.
func writeFieldValidation(w http.ResponseWriter, doc string, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": errs, "documentation_url": doc})
}

// paging reads page and per_page the way GitHub does: bad or missing values take the
// defaults (page 1, 30 per page) and per_page is capped at 100.
func paging(r *http.Request) (page, per int) {
	q := r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	per, err = strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = defaultPerPage
	}
	return page, min(per, maxPerPage)
}

// pageBounds returns the slice bounds of a page of n items.
func pageBounds(n, page, per int) (int, int) {
	start := min((page-1)*per, n)
	return start, min(start+per, n)
}

// setPageLinks writes GitHub's Link header for page-numbered lists: prev, next, last, first,
// each present only where GitHub sends it, pointing at the request's own URL.
func setPageLinks(w http.ResponseWriter, r *http.Request, page, per, total int) {
	last := max(1, (total+per-1)/per)
	var links []string
	add := func(p int, rel string) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", pageURL(r, url.Values{"page": {strconv.Itoa(p)}, "per_page": {strconv.Itoa(per)}}), rel))
	}
	if page > 1 {
		add(min(page-1, last), "prev")
	}
	if page < last {
		add(page+1, "next")
		add(last, "last")
	}
	if page > 1 {
		add(1, "first")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}

// pageURL is the request's absolute URL with some query parameters replaced.
func pageURL(r *http.Request, set url.Values) string {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	q := u.Query()
	for k, v := range set {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("problems parsing JSON: %w", err)
	}
	return nil
}

// ts renders a time as GitHub does, or null for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format("2006-01-02T15:04:05Z")
}
