# Organization-level ephemeral runners on spot instances: every job gets a fresh instance that
# registers with a just-in-time config, runs that one job and terminates.

provider "aws" {
  region = var.aws_region
}

module "ghr" {
  source = "../../terraform"

  prefix     = var.prefix
  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids

  github_app = {
    id             = var.github_app_id
    key            = var.github_app_key_base64
    webhook_secret = var.github_webhook_secret
  }

  runner_configs = {
    linux-x64 = {
      labels = ["self-hosted", "linux", "x64"]
      level  = "org"
      # Several types and every subnet given let EC2 Fleet find spot capacity; on-demand takes
      # over when spot has none.
      instance_types = ["m7i.large", "m6i.large", "m7a.large", "m6a.large"]
      capacity_type  = "spot"
      ephemeral      = true
      max_runners    = 20
    }
  }

  tags = {
    Project = "ghr"
  }
}
