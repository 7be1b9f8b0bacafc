package scaledown

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// memFleet is an in-memory EC2 side that counts calls.
type memFleet struct {
	mu                              sync.Mutex
	instances                       map[string]Instance
	lists, terminates, tags, untags int
	terminated                      []string
}

var _ Fleet = (*memFleet)(nil)

func newMemFleet(insts ...Instance) *memFleet {
	f := &memFleet{instances: map[string]Instance{}}
	for _, in := range insts {
		f.instances[in.ID] = in
	}
	return f
}

func (f *memFleet) List(context.Context) ([]Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var out []Instance
	for _, id := range slices.Sorted(maps.Keys(f.instances)) {
		out = append(out, f.instances[id])
	}
	return out, nil
}

func (f *memFleet) Terminate(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminates++
	for _, id := range ids {
		delete(f.instances, id)
		f.terminated = append(f.terminated, id)
	}
	return nil
}

func (f *memFleet) Tag(_ context.Context, ids []string, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags++
	for _, id := range ids {
		in := f.instances[id]
		if key == "ghr:orphan" {
			in.OrphanTag = value
		}
		f.instances[id] = in
	}
	return nil
}

func (f *memFleet) Untag(_ context.Context, ids []string, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.untags++
	for _, id := range ids {
		in := f.instances[id]
		if key == "ghr:orphan" {
			in.OrphanTag = ""
		}
		f.instances[id] = in
	}
	return nil
}

func (f *memFleet) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.instances[id]
	return ok
}

// memTokens is an in-memory SSM side.
type memTokens struct {
	tokens map[string]string // name → instance id
}

func (m *memTokens) List(context.Context) ([]Token, error) {
	var out []Token
	for _, n := range slices.Sorted(maps.Keys(m.tokens)) {
		out = append(out, Token{Name: n, InstanceID: m.tokens[n]})
	}
	return out, nil
}

func (m *memTokens) Delete(_ context.Context, names []string) (int, error) {
	for _, n := range names {
		delete(m.tokens, n)
	}
	return len(names), nil
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
