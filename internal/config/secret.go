package config

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret is a value given either directly in env (local runs) or as the name of an SSM
// SecureString (deployments). The value is resolved once per container and never logged.
type Secret struct {
	Env       string // base variable name, e.g. WEBHOOK_SECRET
	Value     string // from <Env>, local runs only
	Parameter string // from <Env>_PARAMETER
}

// ParameterReader reads one decrypted SSM parameter.
type ParameterReader interface {
	Parameter(ctx context.Context, name string) (string, error)
}

// Secret reads <key> or <key>_PARAMETER; exactly one must be set.
func (e *Env) Secret(key string) Secret {
	s := Secret{Env: key, Value: e.String(key, ""), Parameter: e.String(key+"_PARAMETER", "")}
	switch {
	case s.Value == "" && s.Parameter == "":
		e.Fail("%s or %s_PARAMETER is required", key, key)
	case s.Value != "" && s.Parameter != "":
		e.Fail("set only one of %s and %s_PARAMETER", key, key)
	}
	return s
}

// Resolve returns the secret's value, reading SSM when it is given by parameter name.
func (s Secret) Resolve(ctx context.Context, r ParameterReader) (string, error) {
	if s.Parameter == "" {
		return s.Value, nil
	}
	if r == nil {
		return "", fmt.Errorf("%s_PARAMETER set but no parameter reader", s.Env)
	}
	v, err := r.Parameter(ctx, s.Parameter)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.Env, err)
	}
	if v == "" {
		return "", fmt.Errorf("read %s: parameter %s is empty", s.Env, s.Parameter)
	}
	return v, nil
}

// Every way a Secret can be printed names where it comes from, never its value: %v, %s and
// %+v use String, %#v uses GoString, slog uses LogValue and encoding/json MarshalJSON.
var (
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ slog.LogValuer = Secret{}
)

// String hides the value from fmt.
func (s Secret) String() string {
	if s.Parameter != "" {
		return "ssm:" + s.Parameter
	}
	return "[redacted]"
}

// GoString hides the value from %#v, which would otherwise print every field.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret{Env:%q, %s}", s.Env, s.String()) }

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps the value out of JSON (a config dumped for debugging, for instance).
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.String())
}
