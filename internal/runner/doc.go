// Package runner is ghr's runner vocabulary, one spelling of each word from the webhook to
// scale-down, and the compute-provider seam:
//
//   - Owner: where a runner registers, an organization ("octo") or a repository ("octo/app").
//   - Config: a runner config's key (config.RunnerConfig.Key) names the kind of runner.
//   - Host: one live machine or task that runs a runner (an EC2 instance, an ECS task), as
//     its compute provider reports it.
//   - Registration: one GitHub runner registration, as GitHub's runner list shows it.
//   - Provider: the calls a compute platform answers (launch, list, describe, tag, stop,
//     killed), implemented by ec2fleet for EC2 and by an ECS provider for tasks.
//
// It holds types and the rules that only read them; it makes no call itself, so every Lambda
// may import it without linking a provider.
package runner
