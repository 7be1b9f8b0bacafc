package tfmodule

import (
	"fmt"
	"os"
	"path/filepath"
)

// Readme returns dir's README.md as it is and as it should be: its generated part rebuilt from
// the module's variables and outputs.
func Readme(dir string) (current, want string, err error) {
	m, err := Inspect(dir)
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(dir, "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	want, err = Splice(string(b), Markdown(m))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	return string(b), want, nil
}
