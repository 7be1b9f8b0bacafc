package webhook

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// githubHooks are the `hooks` ranges GitHub publishes in GET /meta.
var githubHooks = []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "2a0a:a440::/29", "2606:50c0::/32"}

func TestSourceRanges(t *testing.T) {
	hooks, err := ParseSourceRanges(githubHooks)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ranges SourceRanges
		ip     string
		want   bool
	}{
		{hooks, "140.82.115.10", true},
		{hooks, "192.30.252.1", true},
		{hooks, "2606:50c0:8000::153", true},
		{hooks, "::ffff:143.55.64.9", true},
		{hooks, "203.0.113.9", false},
		{hooks, "140.82.128.1", false}, // just past 140.82.112.0/20
		{hooks, "2001:db8::1", false},
		{hooks, "", false},
		{hooks, "not-an-ip", false},
		{nil, "203.0.113.9", true}, // no ranges: every source
		{nil, "", true},
	} {
		if got := tc.ranges.Allows(tc.ip); got != tc.want {
			t.Errorf("Allows(%q) with %d ranges = %v, want %v", tc.ip, len(tc.ranges), got, tc.want)
		}
	}
	if _, err := ParseSourceRanges([]string{"140.82.112.0/33"}); err == nil {
		t.Error("a bad range parsed")
	}
}

// A flood from outside GitHub's hook ranges is refused before the body is read or its
// signature computed, and enqueues nothing; GitHub's own deliveries still go through.
// Today's main processes any source.
func TestWebhookSourceRangesRefuseOtherSources(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s, func(o *Options) { o.SourceRanges = githubHooks })
	body := readPayload(t, "workflow_job_queued_user.json") // labels self-hosted, k8s: a config of ours
	send := func(ip string) events.APIGatewayV2HTTPResponse {
		req := request("workflow_job", body)
		resp, err := in.HandleLambda(context.Background(), events.APIGatewayV2HTTPRequest{Headers: req.Headers, Body: req.Body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: ip}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := send("203.0.113.9"); resp.StatusCode != http.StatusForbidden || s.count() != 0 {
		t.Fatalf("a signed delivery from outside GitHub's ranges: %d %s, %d enqueued; want 403 and nothing", resp.StatusCode, resp.Body, s.count())
	}
	if resp := send("140.82.115.10"); resp.StatusCode != http.StatusAccepted || s.count() != 1 {
		t.Fatalf("GitHub's delivery: %d %s, %d enqueued; want 202 and one job", resp.StatusCode, resp.Body, s.count())
	}
	if _, err := New(Options{Secret: []byte(testSecret), Sender: s, SourceRanges: []string{"github"}}); err == nil {
		t.Error("New accepted a source range that is not a CIDR")
	}
}
