package tfmodule

import (
	"errors"
	"slices"
	"strings"

	"github.com/ghr-dev/ghr/internal/config"
)

// Readers maps each function the module deploys (its name after "<prefix>-") to the
// internal/config reader its main() calls. A function added to the module without an entry
// here fails the contract test; so does a reader that looks up a variable the module does not
// set, or the reverse.
var Readers = map[string]func(*config.Env) error{
	"webhook":           func(e *config.Env) error { _, err := config.ReadWebhook(e); return err },
	"scale-up":          func(e *config.Env) error { config.ReadScaleUp(e); return e.Err() },
	"scale-down":        func(e *config.Env) error { _, err := config.ReadScaleDown(e); return err },
	"cleanup":           func(e *config.Env) error { _, err := config.ReadCleanup(e); return err },
	"pool":              func(e *config.Env) error { _, err := config.ReadPool(e); return err },
	"redeliver":         func(e *config.Env) error { _, err := config.ReadRedeliver(e); return err },
	"syncer":            func(e *config.Env) error { config.ReadSyncer(e); return e.Err() },
	"spot-interruption": func(e *config.Env) error { _, err := config.ReadSpotInterruption(e); return err },
}

// ReadEnv runs function fn's reader on env and returns every variable it looked up (set or
// not, in lookup order without repeats) and its validation error.
func ReadEnv(fn string, env map[string]string) (looked []string, err error) {
	read, ok := Readers[fn]
	if !ok {
		return nil, &UnknownFunctionError{Name: fn}
	}
	e := &config.Env{Lookup: func(k string) (string, bool) {
		if !slices.Contains(looked, k) {
			looked = append(looked, k)
		}
		v, ok := env[k]
		return v, ok
	}}
	return looked, read(e)
}

// UnknownFunctionError names a function the contract does not know.
type UnknownFunctionError struct{ Name string }

func (e *UnknownFunctionError) Error() string {
	return "function " + e.Name + " has no reader in tfmodule.Readers"
}

// ContractProblems compares the variables the module set on function fn with those its reader
// looks up. Each secret-like variable X is read as X or X_PARAMETER, so the module sets one of
// the pair; optional lists variables the function may also leave unset by design (the syncer's
// credentials). It returns one line per problem, sorted.
func ContractProblems(fn string, env map[string]string, optional []string) []string {
	looked, err := ReadEnv(fn, env)
	var unknown *UnknownFunctionError
	if errors.As(err, &unknown) {
		return []string{err.Error()}
	}
	var problems []string
	if err != nil {
		problems = append(problems, fn+": the module's environment does not pass the reader's validation: "+err.Error())
	}
	for k := range env {
		if !slices.Contains(looked, k) {
			problems = append(problems, fn+": sets "+k+", which the function never reads")
		}
	}
	for _, k := range looked {
		if _, set := env[k]; set || slices.Contains(optional, k) || otherHalfSet(k, env) {
			continue
		}
		problems = append(problems, fn+": reads "+k+", which the module does not set")
	}
	slices.Sort(problems)
	return problems
}

// otherHalfSet reports whether k is one half of an X / X_PARAMETER pair whose other half is set.
func otherHalfSet(k string, env map[string]string) bool {
	if _, ok := env[k+"_PARAMETER"]; ok {
		return true
	}
	if base, ok := strings.CutSuffix(k, "_PARAMETER"); ok {
		_, set := env[base]
		return set
	}
	return false
}
