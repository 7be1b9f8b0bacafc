package githubapp

import (
	"strings"
)

// Endpoint names a request by method and path template, e.g.
// "POST /orgs/{org}/actions/runners/generate-jitconfig", so counts and pacing group calls the
// way GitHub's documentation and secondary limits do. basePath is the API's own path prefix
// ("/api/v3" on GitHub Enterprise Server), removed first.
func Endpoint(method, path, basePath string) string {
	path = strings.TrimPrefix(path, strings.TrimSuffix(basePath, "/"))
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var b strings.Builder
	b.Grow(len(method) + len(path) + 16)
	b.WriteString(method)
	b.WriteByte(' ')
	for i := 0; i < len(segs); i++ {
		b.WriteByte('/')
		s := segs[i]
		switch {
		case i == 1 && (segs[0] == "orgs" || segs[0] == "enterprises"):
			b.WriteString("{org}")
		case i == 1 && segs[0] == "users":
			b.WriteString("{user}")
		case i == 1 && segs[0] == "repos":
			b.WriteString("{owner}")
		case i == 2 && segs[0] == "repos":
			b.WriteString("{repo}")
		case isNumber(s):
			b.WriteString("{id}")
		default:
			b.WriteString(s)
		}
	}
	return b.String()
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
