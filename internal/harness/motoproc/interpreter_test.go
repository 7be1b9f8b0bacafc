package motoproc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInterpreterIsTheScriptsOwnPython(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, script, want string }{
		{"pip script", "#!/opt/py/bin/python3.11\nimport sys\n", "/opt/py/bin/python3.11"},
		{"pip script with spaces", "#!  /usr/bin/python3 \n", "/usr/bin/python3"},
		{"pyenv shim", "#!/usr/bin/env bash\nset -e\n", "python3"},
		{"env python (arguments)", "#!/usr/bin/env python3\n", "python3"},
		{"no #! line", "echo hi\n", "python3"},
	} {
		p := filepath.Join(dir, "moto_server")
		if err := os.WriteFile(p, []byte(tt.script), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := interpreter(p); got != tt.want {
			t.Errorf("%s: interpreter = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := interpreter(filepath.Join(dir, "absent")); got != "python3" {
		t.Errorf("absent script: interpreter = %q, want python3", got)
	}
}
