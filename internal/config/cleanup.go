package config

// Cleanup is the lifecycle-queue consumer's configuration: it terminates a finished
// ephemeral runner's instance and deletes its registration.
type Cleanup struct {
	Common
	GitHubApp
	RunnerConfigs Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER: which configs are ephemeral
}

// ReadCleanup reads and validates the clean-up function's environment.
func ReadCleanup(e *Env) (Cleanup, error) {
	c := Cleanup{Common: ReadCommon(e), GitHubApp: ReadGitHubApp(e), RunnerConfigs: ReadRunnerConfigsSource(e)}
	return c, e.Err()
}
