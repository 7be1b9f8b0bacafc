package config

import (
	"context"
	"fmt"
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

// String hides the value from fmt and slog.
func (s Secret) String() string {
	if s.Parameter != "" {
		return "ssm:" + s.Parameter
	}
	return "[redacted]"
}

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() string { return s.String() }
