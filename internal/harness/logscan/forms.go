package logscan

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// forms are the ways a value appears in a log: as is; escaped by encoding/json (with and
// without HTML escaping: slog escapes less than json.Marshal) or by %q; base64-encoded (the
// unpadded form is a prefix of the padded one, so it finds both).
func forms(v string) []string {
	out := []string{v, strings.Trim(strconv.Quote(v), `"`),
		base64.RawStdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	for _, html := range []bool{false, true} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:])
		}
	}
	return out
}

// pemLines returns the body lines of a PEM block in v, which may also be base64 of PEM (as
// GITHUB_APP_KEY allows) or carry literal "\n" escapes (as in an env file). A leak of a
// key usually shows up as some of its lines, JSON-escaped into one log line.
func pemLines(v string) []string {
	if !strings.Contains(v, "-----BEGIN") {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || !strings.Contains(string(b), "-----BEGIN") {
			return nil
		}
		v = string(b)
	}
	v = strings.ReplaceAll(v, `\n`, "\n")
	var out []string
	in := false
	for _, l := range strings.Split(v, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "-----BEGIN"):
			in = true
		case strings.HasPrefix(l, "-----END"):
			in = false
		case in && len(l) >= minPEMLine && !strings.Contains(l, ":"): // skip Proc-Type style headers
			out = append(out, l)
		}
	}
	return out
}

type part struct{ field, value string }

// jitCredentialFiles are the files of an encoded JIT config that hold credentials; the
// .runner file holds the runner's name and URLs, which logs legitimately carry.
var jitCredentialFiles = []string{".credentials", ".credentials_rsaparams"}

// jitParts returns the credential pieces of an encoded JIT config (base64 of a JSON object
// of base64-encoded files): each credential file as encoded, and each long string value
// inside it (the OAuth client id, the RSA parameters). Not a JIT config: nil.
func jitParts(v string) []part {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	var files map[string]string
	if json.Unmarshal(raw, &files) != nil {
		return nil
	}
	var out []part
	for _, name := range jitCredentialFiles {
		enc, ok := files[name]
		if !ok || enc == "" {
			continue
		}
		out = append(out, part{name, enc})
		dec, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			continue
		}
		var doc any
		if json.Unmarshal(dec, &doc) != nil {
			continue
		}
		for _, leaf := range leaves(doc, name) {
			if len(leaf.value) >= minJITPart && !strings.HasPrefix(leaf.value, "http") {
				out = append(out, leaf)
			}
		}
	}
	return out
}

// leaves lists a JSON document's string values with their paths, in key order.
func leaves(doc any, path string) []part {
	switch d := doc.(type) {
	case string:
		return []part{{path, d}}
	case map[string]any:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []part
		for _, k := range keys {
			out = append(out, leaves(d[k], path+"."+k)...)
		}
		return out
	case []any:
		var out []part
		for i, x := range d {
			out = append(out, leaves(x, path+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	}
	return nil
}
