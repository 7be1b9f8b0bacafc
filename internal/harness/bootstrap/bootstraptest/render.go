package bootstraptest

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// interpolation matches the only template forms the user-data template may use, so the
// renderer below stays exactly equivalent to Terraform's templatefile() for it.
var interpolation = regexp.MustCompile(`^\$\{(?:([a-z_][a-z0-9_]*)|base64encode\(([a-z_][a-z0-9_]*)\))\}`)

// Render does what Terraform's templatefile() does for the subset of template syntax the
// user-data template is allowed: ${name}, ${base64encode(name)} and the $${ and %%{ escapes.
// Any other interpolation or directive is an error, which keeps the template inside the
// subset; a missing variable is an error as in Terraform.
func Render(tmpl string, vars map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		rest := tmpl[i:]
		switch {
		case strings.HasPrefix(rest, "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(rest, "%%{"):
			b.WriteString("%{")
			i += 3
		case strings.HasPrefix(rest, "%{"):
			return "", fmt.Errorf("template directive at byte %d: not supported here", i)
		case strings.HasPrefix(rest, "${"):
			m := interpolation.FindStringSubmatch(rest)
			if m == nil {
				end := min(len(rest), 40)
				return "", fmt.Errorf("unsupported interpolation at byte %d: %q", i, rest[:end])
			}
			name, encode := m[1], false
			if name == "" {
				name, encode = m[2], true
			}
			v, ok := vars[name]
			if !ok {
				return "", fmt.Errorf("vars map does not contain key %q", name)
			}
			if encode {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			b.WriteString(v)
			i += len(m[0])
		default:
			b.WriteByte(tmpl[i])
			i++
		}
	}
	return b.String(), nil
}

// TemplateVars lists the variables a template references, sorted.
func TemplateVars(tmpl string) []string {
	seen := map[string]bool{}
	for i := 0; i < len(tmpl); i++ {
		rest := tmpl[i:]
		if strings.HasPrefix(rest, "$${") || strings.HasPrefix(rest, "%%{") {
			i += 2
			continue
		}
		if m := interpolation.FindStringSubmatch(rest); m != nil {
			seen[m[1]+m[2]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
