package drain

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestParseAndEdit(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		drained  map[string]bool
	}{
		{"", "", map[string]bool{"small": false}},
		{" small , large,small,", "large,small", map[string]bool{"small": true, "large": true, "gpu": false}},
		{"small,*", "*", map[string]bool{"gpu": true}},
	} {
		s := Parse(tc.in)
		if s.String() != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.in, s, tc.want)
		}
		for k, want := range tc.drained {
			if s.Drained(k) != want {
				t.Errorf("Parse(%q).Drained(%s) = %v", tc.in, k, !want)
			}
		}
	}
	s := Parse("small").With("large").Without("small")
	if s.String() != "large" {
		t.Errorf("with/without = %q", s)
	}
	if s = s.With(All); !s.All() || !s.Without(All).Empty() {
		t.Errorf("all: %q", s)
	}
}

type fakeParams struct {
	value string
	err   error
	reads int
}

func (f *fakeParams) Parameter(_ context.Context, name string) (string, error) {
	f.reads++
	return f.value, f.err
}

// The switch is read at most once per TTL; missing means nothing drained; an unreadable
// switch keeps its last value.
func TestSwitchCachesAndSurvivesErrors(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &fakeParams{err: fmt.Errorf("get parameter: %w", &smithy.GenericAPIError{Code: "ParameterNotFound"})}
	w := &Switch{Params: p, Name: Path("ghr"), Now: func() time.Time { return now }}
	ctx := context.Background()
	if s, err := w.Get(ctx); err != nil || !s.Empty() {
		t.Fatalf("missing parameter: %v, %v", s, err)
	}
	p.value, p.err = "small", nil
	if s, _ := w.Get(ctx); !s.Empty() || p.reads != 1 {
		t.Fatalf("read again within the TTL (%d reads, %v)", p.reads, s)
	}
	now = now.Add(cacheTTL)
	if s, _ := w.Get(ctx); !s.Drained("small") {
		t.Fatalf("after the TTL: %v", s)
	}
	now = now.Add(cacheTTL)
	p.err = errors.New("ssm down")
	if s, err := w.Get(ctx); err == nil || !s.Drained("small") {
		t.Fatalf("unreadable switch: %v, %v; want the last value and the error", s, err)
	}
	var nilSwitch *Switch
	if s, err := nilSwitch.Get(ctx); err != nil || !s.Empty() {
		t.Fatal("a nil switch drains nothing")
	}
}
