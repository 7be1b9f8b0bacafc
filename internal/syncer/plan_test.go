package syncer

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	const (
		h1 = "aa00000000000000000000000000000000000000000000000000000000000001"
		h2 = "bb00000000000000000000000000000000000000000000000000000000000002"
	)
	rel := &Release{
		Version: "2.321.0",
		Body:    "x <!-- BEGIN SHA linux-x64 -->" + strings.ToUpper(h1) + "<!-- END SHA linux-x64 -->\n<!-- BEGIN SHA linux-arm -->nothex<!-- END SHA linux-arm -->",
		Assets: []Asset{
			{Name: "actions-runner-linux-x64-2.321.0.tar.gz"},
			{Name: "actions-runner-linux-arm64-2.321.0.tar.gz", Digest: "sha256:" + h2},
			{Name: "actions-runner-win-x64-2.321.0.zip"},
			{Name: "actions-runner-linux-arm-2.321.0.tar.gz"},
			{Name: "actions-runner-osx-x64-2.321.0.tar.gz", Digest: "sha256:" + h1},
		},
	}
	rel.Body += "<!-- BEGIN SHA osx-x64 -->" + h2 + "<!-- END SHA osx-x64 -->"
	cases := []struct {
		name    string
		target  string
		current map[string]Object
		upload  bool
		sha     string
		err     string
	}{
		{"missing object uploads; hash from the notes", "linux-x64", nil, true, h1, ""},
		{"same version, same hash: nothing to do", "linux-x64", map[string]Object{Key("linux-x64"): {Version: "2.321.0", SHA256: h1}}, false, h1, ""},
		{"older version uploads", "linux-x64", map[string]Object{Key("linux-x64"): {Version: "2.320.0", SHA256: h1}}, true, h1, ""},
		{"same version, other hash: repaired", "linux-x64", map[string]Object{Key("linux-x64"): {Version: "2.321.0", SHA256: h2}}, true, h1, ""},
		{"hash from the asset digest", "linux-arm64", nil, true, h2, ""},
		{"nothing published: version decides", "win-x64", map[string]Object{Key("win-x64"): {Version: "2.321.0"}}, false, "", ""},
		{"no asset for the target", "osx-arm64", nil, false, "", "has no asset for osx-arm64"},
		{"malformed hash in the notes", "linux-arm", nil, false, "", "malformed SHA-256"},
		{"digest and notes disagree", "osx-x64", nil, false, "", "disagree"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps := Plan(rel, []string{tc.target}, tc.current)
			if len(steps) != 1 {
				t.Fatalf("%d steps", len(steps))
			}
			s := steps[0]
			if tc.err != "" {
				if s.Err == nil || !strings.Contains(s.Err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", s.Err, tc.err)
				}
				return
			}
			if s.Err != nil || s.Upload != tc.upload || s.SHA256 != tc.sha || s.Key != Key(tc.target) {
				t.Errorf("step %+v, want upload=%t sha=%s", s, tc.upload, tc.sha)
			}
		})
	}
}

func TestKey(t *testing.T) {
	for target, want := range map[string]string{
		"linux-x64":   "actions-runner-linux-x64.tar.gz",
		"linux-arm64": "actions-runner-linux-arm64.tar.gz",
		"win-x64":     "actions-runner-win-x64.zip",
	} {
		if got := Key(target); got != want {
			t.Errorf("Key(%s) = %s, want %s", target, got, want)
		}
	}
}
