package logscan

import (
	"bytes"
	"io"
	"sync"
)

// maxPartial bounds a line held while waiting for its newline; a longer one is scanned as
// is, so a writer that never ends a line cannot grow the buffer without limit.
const maxPartial = 1 << 20

// Monitor is an io.Writer that scans what is written through it line by line, for wiring
// in as a function's log sink (lambdahost.Function.Logs) or under a slog handler. A line
// split across writes is joined before scanning; writers sharing a Monitor must each write
// whole lines, or their fragments interleave. Safe for concurrent use.
type Monitor struct {
	s    *Scanner
	next io.Writer // nil: scan only

	mu       sync.Mutex
	partial  []byte
	lines    int
	findings []Finding
}

// Monitor returns a Monitor scanning for s's secrets that passes writes on to next (nil
// discards them).
func (s *Scanner) Monitor(next io.Writer) *Monitor { return &Monitor{s: s, next: next} }

// Write scans p's complete lines and keeps the rest for the next write.
func (m *Monitor) Write(p []byte) (int, error) {
	m.mu.Lock()
	m.partial = append(m.partial, p...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			break
		}
		m.scan(m.partial[:i])
		m.partial = m.partial[i+1:]
	}
	if len(m.partial) > maxPartial {
		m.scan(m.partial)
		m.partial = nil
	}
	m.partial = bytes.Clone(m.partial) // let the consumed prefix go
	m.mu.Unlock()
	if m.next == nil {
		return len(p), nil
	}
	return m.next.Write(p)
}

func (m *Monitor) scan(line []byte) {
	m.lines++
	m.findings = append(m.findings, m.s.Line(m.lines, string(bytes.TrimRight(line, "\r")))...)
}

// Flush scans a last line that has no newline.
func (m *Monitor) Flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.partial) > 0 {
		m.scan(m.partial)
		m.partial = nil
	}
}

// Findings returns what was found so far.
func (m *Monitor) Findings() []Finding {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Finding(nil), m.findings...)
}

// Lines is how many lines were scanned: a check that saw nothing should also show it
// looked.
func (m *Monitor) Lines() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lines
}

var _ io.Writer = (*Monitor)(nil)
