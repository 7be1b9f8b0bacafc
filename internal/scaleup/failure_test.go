package scaleup

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
)

func TestFailureClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "none"},
		{&smithy.GenericAPIError{Code: "InsufficientInstanceCapacity"}, "capacity"},
		{fmt.Errorf("launch: %w", &smithy.GenericAPIError{Code: "VcpuLimitExceeded"}), "quota"},
		{errors.Join(errors.New("x"), &githubapp.RateLimitError{Endpoint: "POST /x", Wait: time.Minute}), "rate_limit"},
		{&github.ErrorResponse{Response: &http.Response{StatusCode: 422}}, "github"},
		{errors.New("boom"), "other"},
	} {
		if got := FailureClass(tc.err); got != tc.want {
			t.Errorf("FailureClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
