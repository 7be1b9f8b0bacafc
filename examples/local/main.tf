# The whole deployment against a local AWS emulator: every endpoint is var.aws_endpoint, the
# credentials are the emulator's dummies, and nothing is looked up in real AWS. `ghr local`
# applies this with the GitHub simulator's URL and App, then runs the deployed functions.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    apigatewayv2   = var.aws_endpoint
    cloudwatch     = var.aws_endpoint
    cloudwatchlogs = var.aws_endpoint
    ec2            = var.aws_endpoint
    events         = var.aws_endpoint
    iam            = var.aws_endpoint
    kms            = var.aws_endpoint
    lambda         = var.aws_endpoint
    s3             = var.aws_endpoint
    scheduler      = var.aws_endpoint
    sns            = var.aws_endpoint
    sqs            = var.aws_endpoint
    ssm            = var.aws_endpoint
    sts            = var.aws_endpoint
  }
}

# The emulator starts with a default VPC and subnets, as a new AWS account does (the sandbox
# gives it the internet gateway and route a real default VPC has: motoproc.LikeANewAccount).
data "aws_vpc" "default" {
  default = true
}

# Runner subnets only in zones that offer every config's instance types, as in a real account
# (us-east-1e, for one, offers neither m5 nor m6g): a launch into a zone without the type fails.
data "aws_ec2_instance_type_offerings" "runner" {
  for_each      = toset(["m5.large", "m6g.2xlarge"])
  location_type = "availability-zone"
  filter {
    name   = "instance-type"
    values = [each.key]
  }
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
  filter {
    name   = "availability-zone"
    values = sort(setintersection([for o in data.aws_ec2_instance_type_offerings.runner : o.locations]...))
  }
}

module "ghr" {
  source = "../../terraform"

  prefix     = var.prefix
  vpc_id     = data.aws_vpc.default.id
  subnet_ids = slice(sort(data.aws_subnets.default.ids), 0, 2)

  github_api_url = var.github_api_url
  github_app = {
    id             = var.github_app_id
    key            = var.github_app_key_base64
    webhook_secret = var.webhook_secret
  }
  # More (simulated) Apps over which GitHub calls spread, each with its own budget.
  github_apps = [for a in var.github_apps : { id = a.id, key = a.key_base64 }]

  lambda_dist_dir     = var.dist_dir
  lambda_architecture = var.lambda_architecture
  log_level           = "debug"
  log_retention_days  = 1

  # Labels of internal/harness/sandbox's demo jobs; exact matching sends each job to one config.
  runner_configs = {
    small = {
      labels         = ["self-hosted", "linux", "x64"]
      match          = "exact"
      instance_types = ["m5.large", "m5a.large"]
      max_runners    = var.small_max_runners
      # Spare runners (a duplicate webhook after its job's runner left) go after a minute
      # rather than five: the sandbox checks for leftovers soon after the jobs end.
      minimum_running_minutes = 1
      # Real boots (the sandbox runs every host's user data) queue for the 2-core machine:
      # a burst's last boots start a minute or more after launch.
      boot_minutes = 3
      pool_size    = var.pool_size
      pool_owner   = var.pool_size > 0 ? "octo-org" : null
    }
    large = {
      # Disjoint from small's labels: GitHub gives a job to any idle runner whose labels
      # include the job's, so a superset config would take small jobs meant for others.
      labels                  = ["self-hosted", "linux", "arm64", "large"]
      match                   = "exact"
      priority                = 10
      architecture            = "arm64"
      instance_types          = ["m6g.2xlarge"]
      capacity_type           = "on-demand"
      max_runners             = 5
      minimum_running_minutes = 1
      boot_minutes            = 3
    }
    persistent = {
      # Non-ephemeral: registered with a registration token, takes job after job until
      # scale-down removes it once idle. Its labels are exactly these (start-runner.sh passes
      # --no-default-labels), so it takes neither small's nor large's jobs.
      labels                  = ["self-hosted", "linux", "persistent"]
      match                   = "exact"
      priority                = 20
      ephemeral               = false
      instance_types          = ["m5.large"]
      capacity_type           = "on-demand"
      max_runners             = 3
      minimum_running_minutes = 1
      boot_minutes            = 3
    }
  }

  scale_up = {
    recheck_after = var.recheck_after
  }

  # Twice the default: on the sandbox's 2 cores a function starved of CPU misses Lambda's
  # 10 s init and 60 s task limits, and each miss spends a receive of every message in its
  # batch (the soak's copies of served jobs reached the dead-letter queue that way in CI).
  # Lambda on AWS is not starved by its neighbours; the default stays 5.
  build_queue = {
    max_receive_count = 10
  }

  syncer = {
    # The emulator cannot run a function; the sandbox runs the syncer itself.
    invoke_after_deploy = false
  }
  dist_bucket = {
    force_destroy = true
    # The emulator speaks plain http, which the TLS-only bucket policy would refuse.
    require_tls = false
  }
  kms_deletion_window_days = 7
}
