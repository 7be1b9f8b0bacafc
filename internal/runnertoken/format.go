package runnertoken

// The token formats, docs/runner-token.md: what scale-up writes to the parameter and
// start-runner.sh (terraform/modules/runners/templates) reads. ParseToken is the script's
// reading in Go: it pins the format in round-trip tests, and the sandbox's simulated hosts and
// the GitHub simulator read a token with it exactly as a real host does.

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// RegistrationHeader is the first line of a registration document; a new format gets a new
// header so an old image rejects it clearly instead of guessing.
const RegistrationHeader = "ghr-registration-v1"

// Registration is the config.sh arguments of a runner registered with a registration token
// (persistent runners, or ephemeral ones not using JIT configs).
type Registration struct {
	URL         string   // https://github.com/ORG or https://github.com/ORG/REPO (GHES: its host)
	Token       string   // registration token
	Name        string   // runner name: tags.RunnerName(prefix, instanceID)
	Labels      []string // the runner's labels, exactly (no config.sh defaults added); empty keeps the defaults
	RunnerGroup string   // org runner group; "" is the default group
	Ephemeral   bool     // config.sh --ephemeral: one job, then the instance powers off
}

// jitPattern is what start-runner.sh takes for a JIT config: one line of standard base64.
var jitPattern = regexp.MustCompile(`^[A-Za-z0-9+/]+=*$`)

// ErrNotJIT is returned by ValidateJIT for a value the bootstrap would not take as a JIT config.
var ErrNotJIT = errors.New("runner token: a JIT config must be one line of standard base64")

// ValidateJIT checks that GitHub's encoded_jit_config will be read as one by the bootstrap.
func ValidateJIT(encoded string) error {
	if !jitPattern.MatchString(encoded) {
		return ErrNotJIT
	}
	return nil
}

// Encode renders the document start-runner.sh parses. Values are single lines; commas
// separate labels, so neither may appear inside one.
func (r Registration) Encode() (string, error) {
	if r.URL == "" || r.Token == "" || r.Name == "" {
		return "", errors.New("runner token: url, token and name are required")
	}
	for _, v := range append([]string{r.URL, r.Token, r.Name, r.RunnerGroup}, r.Labels...) {
		if strings.ContainsAny(v, "\r\n\x00") {
			return "", errors.New("runner token: values must be single lines")
		}
	}
	for _, l := range r.Labels {
		if l == "" || strings.Contains(l, ",") {
			return "", fmt.Errorf("runner token: label %q must be non-empty and contain no comma", l)
		}
	}
	var b strings.Builder
	b.WriteString(RegistrationHeader + "\n")
	fmt.Fprintf(&b, "url=%s\ntoken=%s\nname=%s\n", r.URL, r.Token, r.Name)
	if len(r.Labels) > 0 {
		fmt.Fprintf(&b, "labels=%s\n", strings.Join(r.Labels, ","))
	}
	if r.RunnerGroup != "" {
		fmt.Fprintf(&b, "runner_group=%s\n", r.RunnerGroup)
	}
	fmt.Fprintf(&b, "ephemeral=%t\n", r.Ephemeral)
	return b.String(), nil
}

// ParseToken reads a token parameter the way start-runner.sh does: a JIT config (jit is set)
// or a registration document (reg is set).
func ParseToken(value string) (jit string, reg *Registration, err error) {
	if jitPattern.MatchString(value) {
		return value, nil, nil
	}
	lines := strings.Split(strings.TrimSuffix(value, "\n"), "\n")
	if lines[0] != RegistrationHeader {
		return "", nil, errors.New("runner token: unknown format")
	}
	r := &Registration{}
	for i, line := range lines[1:] {
		if line == "" {
			continue
		}
		key, v, ok := strings.Cut(line, "=")
		if !ok {
			return "", nil, fmt.Errorf("runner token: line %d is not key=value", i+2)
		}
		switch key {
		case "url":
			r.URL = v
		case "token":
			r.Token = v
		case "name":
			r.Name = v
		case "labels":
			r.Labels = nil // as in the script: an empty value keeps the runner's defaults
			if v != "" {
				r.Labels = strings.Split(v, ",")
			}
		case "runner_group":
			r.RunnerGroup = v
		case "ephemeral":
			if v != "true" && v != "false" {
				return "", nil, fmt.Errorf("runner token: ephemeral=%s: want true or false", v)
			}
			r.Ephemeral = v == "true"
		default:
			return "", nil, fmt.Errorf("runner token: unknown key %s on line %d", key, i+2)
		}
	}
	if r.URL == "" || r.Token == "" || r.Name == "" {
		return "", nil, errors.New("runner token: url, token and name are required")
	}
	return "", r, nil
}
