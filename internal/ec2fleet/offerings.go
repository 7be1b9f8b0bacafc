package ec2fleet

import (
	"sync"
	"time"
)

// Offering is one capacity pool. A subnet stands for its availability zone (a subnet lives in
// exactly one zone), which saves a DescribeSubnets call to learn the zone.
type Offering struct {
	InstanceType string
	SubnetID     string
	CapacityType string // config.CapacitySpot or config.CapacityOnDemand
}

// OfferingCache remembers pools that recently had no capacity. It lives as long as the Lambda
// container, so every batch a warm container handles benefits. Safe for concurrent use.
type OfferingCache struct {
	ttl time.Duration
	now func() time.Time

	mu  sync.Mutex
	out map[Offering]outEntry
}

type outEntry struct {
	until time.Time
	code  string
}

// NewOfferingCache returns a cache whose entries expire after ttl; now nil uses time.Now.
func NewOfferingCache(ttl time.Duration, now func() time.Time) *OfferingCache {
	if now == nil {
		now = time.Now
	}
	return &OfferingCache{ttl: ttl, now: now, out: map[Offering]outEntry{}}
}

// MarkOut records that o answered code (a capacity or quota error).
func (c *OfferingCache) MarkOut(o Offering, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out[o] = outEntry{until: c.now().Add(c.ttl), code: code}
}

// Out reports whether o is being skipped, and the error code that put it out.
func (c *OfferingCache) Out(o Offering) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.out[o]
	if !ok {
		return "", false
	}
	if !c.now().Before(e.until) {
		delete(c.out, o)
		return "", false
	}
	return e.code, true
}
