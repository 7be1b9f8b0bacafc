package scaleup

import (
	"errors"

	"github.com/aws/smithy-go"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/githubapp"
)

// FailureClass names what made a launch fall short, for the JobsFailed metric: "rate_limit"
// when GitHub (or our pacer) held us back, "github" for another GitHub answer, the awserr
// class of an AWS error, "other" for anything else. The first recognised error wins.
func FailureClass(err error) string {
	if err == nil {
		return "none"
	}
	if _, limited := githubapp.RateLimitWait(err); limited {
		return "rate_limit"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return awserr.Classify(err).String()
	}
	var gh *github.ErrorResponse
	if errors.As(err, &gh) {
		return "github"
	}
	return "other"
}
