// Package vclock is a virtual clock for tests of pacing: goroutines run against simulated
// time that stands still while any of them runs and jumps to the earliest wake-up once all of
// them sleep, so minutes of pacing take milliseconds and no test depends on the machine's
// speed.
package vclock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is the virtual clock. Every goroutine it counts must end with Exit.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	running int
	waiters []wakeup
}

type wakeup struct {
	at time.Time
	ch chan struct{}
}

// New starts a clock at start for the given number of goroutines.
func New(start time.Time, goroutines int) *Clock {
	return &Clock{now: start, running: goroutines}
}

// Now is the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep parks the calling goroutine until the virtual time has advanced by d.
func (c *Clock) Sleep(_ context.Context, d time.Duration) error {
	ch := make(chan struct{})
	c.mu.Lock()
	c.waiters = append(c.waiters, wakeup{at: c.now.Add(d), ch: ch})
	c.running--
	c.wakeLocked()
	c.mu.Unlock()
	<-ch
	return nil
}

// Exit is a goroutine leaving for good.
func (c *Clock) Exit() {
	c.mu.Lock()
	c.running--
	c.wakeLocked()
	c.mu.Unlock()
}

// wakeLocked lets the earliest sleeper run once nobody else does.
func (c *Clock) wakeLocked() {
	if c.running > 0 || len(c.waiters) == 0 {
		return
	}
	slices.SortStableFunc(c.waiters, func(a, b wakeup) int { return a.at.Compare(b.at) })
	w := c.waiters[0]
	c.waiters = c.waiters[1:]
	if w.at.After(c.now) {
		c.now = w.at
	}
	c.running++
	close(w.ch)
}
