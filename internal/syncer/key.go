package syncer

import "strings"

// Key is the dist-bucket key of a target's runner archive: actions-runner-<target>.tar.gz,
// or .zip for Windows. The bootstrap scripts build the same name from uname -m.
func Key(target string) string {
	if strings.HasPrefix(target, "win-") {
		return "actions-runner-" + target + ".zip"
	}
	return "actions-runner-" + target + ".tar.gz"
}
