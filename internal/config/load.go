package config

import (
	"context"
	"fmt"
)

// LoadRunnerConfigs resolves and parses the runner configs from env or SSM.
func LoadRunnerConfigs(ctx context.Context, src Secret, r ParameterReader) ([]RunnerConfig, error) {
	raw, err := src.Resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	cfgs, err := ParseRunnerConfigs([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Env, err)
	}
	return cfgs, nil
}

// ByKey indexes configs by key.
func ByKey(cfgs []RunnerConfig) map[string]*RunnerConfig {
	m := make(map[string]*RunnerConfig, len(cfgs))
	for i := range cfgs {
		m[cfgs[i].Key] = &cfgs[i]
	}
	return m
}
