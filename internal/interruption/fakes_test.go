package interruption

import (
	"context"
	"errors"
	"sync"

	"github.com/ghr-dev/ghr/internal/scaledown"
)

// memStore is a stateful Store.
type memStore struct {
	mu   sync.Mutex
	recs map[string]Record
	fail error
}

var _ Store = (*memStore)(nil)

func newStore(recs ...Record) *memStore {
	s := &memStore{recs: map[string]Record{}}
	for _, r := range recs {
		s.recs[r.InstanceID] = r
	}
	return s
}

func (s *memStore) Put(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.recs[r.InstanceID] = r
	return nil
}

func (s *memStore) Get(_ context.Context, id string) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return Record{}, false, s.fail
	}
	r, ok := s.recs[id]
	return r, ok, nil
}

func (s *memStore) List(context.Context) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	var out []Record
	for _, r := range s.recs {
		out = append(out, r)
	}
	return out, nil
}

func (s *memStore) Delete(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.recs, id)
	}
	return nil
}

// fleet holds this deployment's instances.
type fleet struct {
	instances map[string]scaledown.Instance
	calls     int
}

func (f *fleet) Instance(_ context.Context, id string) (scaledown.Instance, bool, error) {
	f.calls++
	in, ok := f.instances[id]
	return in, ok, nil
}

// github plays the runners' registrations: busy ones refuse deletion.
type ghfake struct {
	runners map[int64]bool // runner id → busy
	removed []int64
	reruns  []int64
	refuse  bool
	down    bool
}

func (g *ghfake) RemoveRunner(_ context.Context, _ scaledown.Owner, id int64) (scaledown.RemoveResult, error) {
	if g.down {
		return 0, errors.New("502")
	}
	busy, ok := g.runners[id]
	switch {
	case !ok:
		return scaledown.NotFound, nil
	case busy:
		return scaledown.Busy, nil
	}
	delete(g.runners, id)
	g.removed = append(g.removed, id)
	return scaledown.Removed, nil
}

func (g *ghfake) RerunJob(_ context.Context, _ string, jobID int64) error {
	switch {
	case g.down:
		return errors.New("502")
	case g.refuse:
		return ErrRerunRefused
	}
	g.reruns = append(g.reruns, jobID)
	return nil
}
