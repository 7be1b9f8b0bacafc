# Two kinds of runner, chosen by label: small Linux x64 instances for most jobs and large
# arm64 instances for jobs that ask for them. The App's credentials already live in SSM.

provider "aws" {
  region = var.aws_region
}

module "ghr" {
  source = "../../terraform"

  prefix     = var.prefix
  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids

  github_app_parameters = {
    id             = var.github_app_parameters.id
    key            = var.github_app_parameters.key
    webhook_secret = var.github_app_parameters.webhook_secret
  }

  runner_configs = {
    # runs-on: [self-hosted, linux, x64] and nothing else.
    small-x64 = {
      labels         = ["self-hosted", "linux", "x64"]
      match          = "exact"
      priority       = 0
      instance_types = ["m7i.large", "m6i.large", "m7a.large"]
      max_runners    = 50
      # Keep two runners warm on weekday office hours in Amsterdam, none otherwise.
      idle_config = [{ cron = "* 8-18 * * 1-5", time_zone = "Europe/Amsterdam", idle_count = 2 }]
    }
    # runs-on: [self-hosted, linux, arm64, large], or any subset such as [self-hosted, arm64].
    large-arm64 = {
      labels              = ["self-hosted", "linux", "arm64", "large"]
      match               = "subset"
      priority            = 10
      architecture        = "arm64"
      instance_types      = ["m7g.2xlarge", "m6g.2xlarge", "c7g.2xlarge"]
      capacity_type       = "on-demand"
      allocation_strategy = "lowest-price"
      max_runners         = 10
      root_volume_size    = 100
    }
  }

  repository_allowlist = var.repository_allowlist
  lambda_architecture  = "arm64"

  tags = {
    Project = "ghr"
  }
}
