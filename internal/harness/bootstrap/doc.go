// Package bootstrap holds the tests of the instance bootstrap scripts in
// terraform/modules/runners/templates (user data, start-runner.sh): they run the real scripts
// against a fake instance (package bootstraptest). It ships nothing; the token formats the
// scripts read are package runnertoken's.
package bootstrap
