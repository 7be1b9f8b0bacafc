package lambdahost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// API Gateway HTTP API limits.
const (
	// maxHTTPBody is API Gateway's request payload limit.
	maxHTTPBody = 10 << 20
	// integrationTimeout is an HTTP API's largest integration timeout: a function still
	// running then gets 503 while it goes on.
	integrationTimeout = 30 * time.Second
)

// API Gateway's answers when it cannot get one from the function.
const (
	bodyInternal    = `{"message":"Internal Server Error"}`
	bodyTooMany     = `{"message":"Too Many Requests"}`
	bodyUnavailable = `{"message":"Service Unavailable"}`
)

// Invoker runs one invocation: a Host, or a test double.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

var _ Invoker = (*Host)(nil)

// HTTPAPI plays an API Gateway HTTP API route with a Lambda proxy integration, payload
// format 2.0: it turns requests into APIGatewayV2HTTPRequest events and the function's
// answer back into HTTP.
type HTTPAPI struct {
	RouteKey string // e.g. "POST /webhook"
	Target   Invoker
	Log      *slog.Logger  // API Gateway's access log of refused requests; nil discards
	Timeout  time.Duration // integration timeout; default (and at most) integrationTimeout
}

func (a *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHTTPBody+1))
	if err != nil || len(body) > maxHTTPBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`)
		return
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: a.RouteKey, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: a.RouteKey, Stage: "$default", RequestID: newID(), TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: r.RemoteAddr, UserAgent: r.UserAgent()},
		},
	}
	for k, v := range r.Header {
		ev.Headers[strings.ToLower(k)] = strings.Join(v, ",") // API Gateway lower-cases and joins
	}
	// API Gateway base64-encodes bodies it does not treat as text.
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	payload, _ := json.Marshal(ev)
	timeout := integrationTimeout
	if a.Timeout > 0 && a.Timeout < timeout {
		timeout = a.Timeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, err := a.Target.Invoke(ctx, payload)
	if err != nil {
		a.refuse(w, r, ev.RequestContext.RequestID, err)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		a.refuse(w, r, ev.RequestContext.RequestID, errors.New("malformed function response"))
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			a.refuse(w, r, ev.RequestContext.RequestID, errors.New("function response body is not base64"))
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// refuse answers as API Gateway does when the integration gives no response: 429 when
// Lambda throttled, 503 when the integration timed out, else (a function error) 500; and
// logs it, as the access log would.
func (a *HTTPAPI) refuse(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	status, body := http.StatusInternalServerError, bodyInternal
	switch {
	case errors.Is(err, ErrThrottled):
		status, body = http.StatusTooManyRequests, bodyTooMany
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		status, body = http.StatusServiceUnavailable, bodyUnavailable
	}
	if a.Log != nil {
		a.Log.Warn("http api refused request", "route", a.RouteKey, "request_id", requestID, "status", status, "error", err.Error())
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}
