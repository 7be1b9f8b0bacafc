//go:build !linux

package sandbox

import (
	"errors"
	"net"
)

// listen: network namespaces, and so real boots, exist only on Linux. The rest of the sandbox
// (and the ghr CLI that embeds it, released for macOS too) builds everywhere.
func (ns *netns) listen(string) (net.Listener, error) {
	return nil, errors.New("real host boots need Linux network namespaces")
}
