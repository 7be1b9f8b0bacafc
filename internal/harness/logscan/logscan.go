// Package logscan finds secrets in log text: the security check run over every log line of
// the end-to-end and soak runs. It looks for the exact secrets a run knows (the App's
// private key, the webhook secret, JIT configs, registration tokens) in the forms a leak
// takes in a JSON log — raw, JSON-escaped, base64 — and for secrets recognised by shape
// (installation tokens, App JWTs, private-key headers). A finding names the secret and the
// place, never the value, so the report itself leaks nothing.
package logscan

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Finding is one secret seen on one line.
type Finding struct {
	Line    int    // 1-based
	Column  int    // 1-based byte offset of the secret in the line
	Secret  string // the caller's name for the secret, or the pattern's name
	Excerpt string // the line with every secret found on it redacted, shortened
}

func (f Finding) String() string {
	return fmt.Sprintf("line %d col %d: %s in %s", f.Line, f.Column, f.Secret, f.Excerpt)
}

// Pattern is a kind of secret recognised by its shape.
type Pattern struct {
	Name string
	Re   *regexp.Regexp
}

// DefaultPatterns are the credentials ghr handles whose values a run need not know.
var DefaultPatterns = []Pattern{
	// Installation tokens: "ghs_" and 36 characters or more (long stateless tokens have no fixed length).
	{"installation token", regexp.MustCompile(`ghs_[A-Za-z0-9_]{36,}`)},
	// Other GitHub token kinds: personal, OAuth, user-to-server, refresh, fine-grained.
	{"GitHub token", regexp.MustCompile(`gh[pour]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}`)},
	// An App JWT is a credential for its ten minutes: header.payload.signature, base64url.
	{"JWT", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`)},
	{"private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
}

// Limits on what counts as a piece of a secret.
const (
	// minPEMLine skips a PEM body's short last line: a dozen base64 characters can occur
	// by chance in a long log, and the full lines before it identify the key anyway.
	minPEMLine = 16
	// minJITPart is the shortest JIT credential value searched on its own; shorter values
	// ("OAuth", "AQAB") are not secret.
	minJITPart = 16
	// excerptLen bounds a finding's excerpt: enough to recognise the log message.
	excerptLen = 240
)

// needle is one exact string to look for and the secret it betrays.
type needle struct{ name, value string }

// Scanner looks for a fixed set of secrets. Build it once with New; it is safe for
// concurrent use.
type Scanner struct {
	needles  []needle
	patterns []Pattern
}

// New builds a scanner for secrets (name → value; empty values are ignored) and patterns.
// Each secret is searched as given, JSON-escaped and base64-encoded; a PEM key also by each
// line of its body, and a JIT config also by each of its credentials.
func New(secrets map[string]string, patterns []Pattern) *Scanner {
	s := &Scanner{patterns: slices.Clone(patterns)}
	seen := map[string]bool{}
	add := func(name, v string) {
		for _, form := range forms(v) {
			if form != "" && !seen[name+"\x00"+form] {
				seen[name+"\x00"+form] = true
				s.needles = append(s.needles, needle{name, form})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		v := strings.TrimSpace(secrets[name])
		if v == "" {
			continue
		}
		add(name, v)
		for i, line := range pemLines(v) {
			add(fmt.Sprintf("%s (PEM line %d)", name, i+1), line)
		}
		for _, p := range jitParts(v) {
			add(name+" ("+p.field+")", p.value)
		}
	}
	return s
}

// Scan reads r line by line and reports every secret in secrets and DefaultPatterns. A read
// error is reported as a finding too, so a check cannot pass by not reading.
func Scan(r io.Reader, secrets map[string]string) []Finding {
	f, err := New(secrets, DefaultPatterns).Scan(r)
	if err != nil {
		f = append(f, Finding{Secret: "unreadable log: " + err.Error()})
	}
	return f
}

// Scan reports every secret in r's lines, in order. The error is r's, after the lines read.
func (s *Scanner) Scan(r io.Reader) ([]Finding, error) {
	br := bufio.NewReader(r)
	var out []Finding
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line != "" {
			out = append(out, s.Line(n, strings.TrimRight(line, "\r\n"))...)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

type span struct {
	start, end int
	name       string
}

// Line reports the secrets on one line, numbered n.
func (s *Scanner) Line(n int, line string) []Finding {
	var spans []span
	for _, nd := range s.needles {
		for off := 0; ; {
			i := strings.Index(line[off:], nd.value)
			if i < 0 {
				break
			}
			spans = append(spans, span{off + i, off + i + len(nd.value), nd.name})
			off += i + len(nd.value)
		}
	}
	for _, p := range s.patterns {
		for _, m := range p.Re.FindAllStringIndex(line, -1) {
			spans = append(spans, span{m[0], m[1], p.Name})
		}
	}
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	spans = slices.CompactFunc(spans, func(a, b span) bool { return a == b })
	excerpt := redact(line, spans)
	out := make([]Finding, len(spans))
	for i, sp := range spans {
		out[i] = Finding{Line: n, Column: sp.start + 1, Secret: sp.name, Excerpt: excerpt}
	}
	return out
}

// redact replaces every span (sorted by start, possibly overlapping) with its name.
func redact(line string, spans []span) string {
	var b strings.Builder
	pos := 0
	for _, sp := range spans {
		if sp.start >= pos {
			b.WriteString(line[pos:sp.start])
			b.WriteString("[" + sp.name + "]")
		}
		pos = max(pos, sp.end)
	}
	b.WriteString(line[pos:])
	out := b.String()
	if len(out) > excerptLen {
		out = strings.ToValidUTF8(out[:excerptLen], "") + "…"
	}
	return out
}
