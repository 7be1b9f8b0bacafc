// Package config turns each Lambda's environment into one typed, validated struct. The
// Terraform module is the single source of truth for these variables; every name read here
// must be set there (terraform/main.tf's local.deployment for what every function shares, each
// submodule for its functions' own variables).
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables and collects every problem, so a misconfigured function reports all
// of them at once on its first cold start instead of one per deploy.
type Env struct {
	Lookup func(string) (string, bool)
	errs   []error
}

// OSEnv reads the process environment.
func OSEnv() *Env { return &Env{Lookup: os.LookupEnv} }

// MapEnv reads from a map; tests use it.
func MapEnv(m map[string]string) *Env {
	return &Env{Lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Err returns every problem found so far, joined.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// Fail records a problem found by a caller's own cross-field check.
func (e *Env) Fail(format string, args ...any) { e.errs = append(e.errs, fmt.Errorf(format, args...)) }

// String returns the trimmed value of key, or def when unset or empty.
func (e *Env) String(key, def string) string {
	v, ok := e.Lookup(key)
	if v = strings.TrimSpace(v); !ok || v == "" {
		return def
	}
	return v
}

// Required returns the value of key and records an error when it is unset or empty.
func (e *Env) Required(key string) string {
	v := e.String(key, "")
	if v == "" {
		e.Fail("%s is required", key)
	}
	return v
}

// Int parses key as an integer within [min, max].
func (e *Env) Int(key string, def, min, max int) int {
	s := e.String(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		e.Fail("%s=%q: want an integer in [%d, %d]", key, s, min, max)
		return def
	}
	return n
}

// Bool parses key as a boolean (true/false/1/0).
func (e *Env) Bool(key string, def bool) bool {
	s := e.String(key, "")
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		e.Fail("%s=%q: want true or false", key, s)
		return def
	}
	return b
}

// Duration parses key as a Go duration ("90s", "5m") within [min, max].
func (e *Env) Duration(key string, def, min, max time.Duration) time.Duration {
	s := e.String(key, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < min || d > max {
		e.Fail("%s=%q: want a duration in [%s, %s]", key, s, min, max)
		return def
	}
	return d
}

// List splits a comma-separated value, dropping empty items.
func (e *Env) List(key string) []string {
	var out []string
	for _, item := range strings.Split(e.String(key, ""), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// OneOf returns the value of key when it is one of allowed, else records an error.
func (e *Env) OneOf(key, def string, allowed ...string) string {
	v := e.String(key, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.Fail("%s=%q: want one of %s", key, v, strings.Join(allowed, ", "))
	return def
}
