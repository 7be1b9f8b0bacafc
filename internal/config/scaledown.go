package config

// ScaleDown is the scheduled reconcile's configuration.
type ScaleDown struct {
	Common
	GitHubApp
	RunnerConfigs Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER
}

// ReadScaleDown reads and validates the scale-down function's environment.
func ReadScaleDown(e *Env) (ScaleDown, error) {
	s := ScaleDown{Common: ReadCommon(e), GitHubApp: ReadGitHubApp(e), RunnerConfigs: ReadRunnerConfigsSource(e)}
	return s, e.Err()
}
