# Runners from a prebuilt image (docs/prebuilt-ami.md): the runner and its dependencies are
# already in /opt/actions-runner, so an instance goes from boot to job without downloading
# anything. A warm pool keeps two registered runners ready for the first jobs of a burst.

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
    prebuilt = {
      labels         = ["self-hosted", "linux", "x64", "prebuilt"]
      instance_types = ["m7i.xlarge", "m6i.xlarge"]
      max_runners    = 30
      # The newest image built by the Packer template in docs/prebuilt-ami.md.
      ami = {
        name   = var.ami_name
        owners = ["self"]
      }
      # Must match what the image was built with.
      runner_dir  = "/opt/actions-runner"
      runner_user = "ghr-runner"
      # Jobs start on a registered, idle runner while replacements boot.
      pool_size  = 2
      pool_owner = var.github_org
    }
  }

  # Work hours in the team's time zone: the pool is topped up every 5 minutes, 7:00-19:59.
  pool_schedule = {
    expression = "cron(*/5 7-19 ? * MON-FRI *)"
    timezone   = "Europe/Berlin"
  }

  tags = {
    Project = "ghr"
  }
}
