package lambdahost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// maxHTTPBody is API Gateway's request payload limit.
const maxHTTPBody = 10 << 20

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
	out, err := a.Target.Invoke(r.Context(), payload)
	if err != nil {
		// API Gateway hides function failures behind a bare 500.
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}
