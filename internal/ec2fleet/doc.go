// Package ec2fleet is ghr's EC2 compute: it launches runner instances with one instant
// CreateFleet per request (spot first, on-demand failover, a TTL cache of pools that had no
// capacity), and lists, tags and terminates them by the deployment's tags (internal/tags).
// Scale-up, pool top-up and scale-down share it, so every part counts runners the same way.
package ec2fleet
