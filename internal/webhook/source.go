package webhook

import (
	"fmt"
	"net/netip"
)

// SourceRanges admits requests by source address: GitHub sends webhooks only from the
// ranges it publishes as `hooks` in GET /meta. Empty admits every source. The check comes
// before the body is read or its signature computed, so a flood from elsewhere costs the
// function the least it can; it cannot spare the API stage's throttle, which counts every
// request (an HTTP API has no resource policy; see docs/decisions.md).
type SourceRanges []netip.Prefix

// ParseSourceRanges parses CIDR ranges ("192.30.252.0/22", "2a0a:a440::/29").
func ParseSourceRanges(cidrs []string) (SourceRanges, error) {
	out := make(SourceRanges, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("webhook source range %q: not a CIDR range", brief(c))
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Allows reports whether a request from ip may be processed. With ranges set, an address
// that does not parse (none given) is refused.
func (s SourceRanges) Allows(ip string) bool {
	if len(s) == 0 {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap() // an IPv4 client seen through an IPv6 socket
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
