package scaleup

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/githubapp"
)

// Transient reports whether waiting alone fixes err: capacity (spot and on-demand alike),
// account quotas, throttling and rate limits, 5xx answers from EC2, SSM or GitHub, network
// failures, and the launcher's own "not now" refusals. A job that failed for such a reason
// is requeued with a delay instead of spending one of its message's receives, so an outage
// longer than max_receive_count visibility timeouts does not end in the dead-letter queue.
// Errors joined together (a launch and its registrations) are transient only when every one
// is: one error retrying cannot fix keeps the receive-spending path, which the queue's
// redrive policy bounds.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !Transient(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	if transientHere(err) {
		return true
	}
	return Transient(errors.Unwrap(err))
}

// transientHere judges err itself, not what it wraps.
func transientHere(err error) bool {
	if err == ErrPaused || err == ErrNoTime || err == ErrOverCap || err == context.DeadlineExceeded {
		return true
	}
	switch e := err.(type) {
	case awserr.Classed:
		return classTransient(e.AWSClass())
	case smithy.APIError:
		return classTransient(awserr.ClassifyCode(e.ErrorCode())) || e.ErrorFault() == smithy.FaultServer || serverCodes[e.ErrorCode()]
	case *smithyhttp.ResponseError:
		return e.HTTPStatusCode() >= 500
	case *github.ErrorResponse:
		return e.Response != nil && e.Response.StatusCode >= 500
	case *githubapp.RateLimitError, *github.RateLimitError, *github.AbuseRateLimitError:
		return true
	case net.Error:
		return true
	}
	return false
}

// serverCodes are the codes AWS APIs answer with HTTP 5xx; the SDK may report them without
// the HTTP status (after its own retries) or with a fault it could not tell.
var serverCodes = map[string]bool{
	"InternalError": true, "InternalFailure": true, "InternalServerError": true,
	"ServiceUnavailable": true, "Unavailable": true, "InternalServerException": true,
}

func classTransient(c awserr.Class) bool {
	return c == awserr.Capacity || c == awserr.Quota || c == awserr.Throttling
}
