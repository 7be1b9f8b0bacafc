# What the module builds, checked on a mock provider: names, which functions exist for which
# runner configs, where the runner configs travel, and the IAM documents.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  prefix     = "ghr-test"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  github_app = {
    id             = "123456"
    key            = "fixture-app-key"
    webhook_secret = "0123456789abcdef0123"
  }
  lambda_zip_paths = {
    webhook             = "tests/fixtures/function.zip"
    "scale-up"          = "tests/fixtures/function.zip"
    "scale-down"        = "tests/fixtures/function.zip"
    cleanup             = "tests/fixtures/function.zip"
    pool                = "tests/fixtures/function.zip"
    redeliver           = "tests/fixtures/function.zip"
    syncer              = "tests/fixtures/function.zip"
    "spot-interruption" = "tests/fixtures/function.zip"
  }
  runner_configs = {
    small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] }
    large = { labels = ["self-hosted", "linux", "arm64", "large"], architecture = "arm64", instance_types = ["m7g.2xlarge"], match = "exact", priority = 5 }
  }
}

run "ephemeral_configs" {
  command = apply

  assert {
    condition     = jsonencode(keys(output.function_names)) == jsonencode(["cleanup", "redeliver", "scale-down", "scale-up", "spot-interruption", "syncer", "webhook"])
    error_message = "ephemeral spot configs without pools deploy webhook, scale-up, scale-down, cleanup, redeliver, syncer and spot-interruption, got ${jsonencode(keys(output.function_names))}"
  }
  assert {
    condition     = alltrue([for n in values(output.function_names) : startswith(n, "ghr-test-")])
    error_message = "every function name starts with the prefix"
  }
  assert {
    condition     = output.lifecycle_queue != null && jsonencode(keys(output.build_queues)) == jsonencode(["large", "small"])
    error_message = "one build queue per config, and a lifecycle queue for ephemeral runners"
  }
  assert {
    condition     = output.runner_configs_parameter == null
    error_message = "two small configs travel inline in RUNNER_CONFIGS"
  }
  assert {
    condition = [for c in jsondecode(output.runner_configs_json) : c.key] == ["large", "small"] && alltrue([
      for c in jsondecode(output.runner_configs_json) : c.launch_template == "ghr-test-${c.key}" && c.queue_url != "" && c.subnet_ids == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    ])
    error_message = "RUNNER_CONFIGS names each config's own launch template and queue, with the module's subnets"
  }
  assert {
    condition = alltrue([for c in jsondecode(output.runner_configs_json) : alltrue([for k in keys(c) : contains([
      "key", "labels", "match", "priority", "queue_url", "level", "ephemeral", "runner_group", "use_job_labels",
      "launch_template", "launch_template_id", "instance_types", "subnet_ids", "capacity_type", "allocation_strategy", "on_demand_failover_errors",
      "max_runners", "minimum_running_minutes", "boot_minutes", "idle_config", "idle_eviction", "pool_size", "pool_owner",
    ], k)])])
    error_message = "RUNNER_CONFIGS holds only fields of config.RunnerConfig (the functions reject unknown fields)"
  }

  # IAM: every action is named, and "*" resources only go with actions AWS offers no
  # resource-level permission for.
  assert {
    condition = alltrue(flatten([for name, p in output.iam_policies : [for s in jsondecode(p).Statement :
      !anytrue([for a in flatten([s.Action]) : strcontains(a, "*")])
    ]]))
    error_message = "no role policy may use a wildcard action"
  }
  assert {
    condition = alltrue(flatten([for name, p in output.iam_policies : [for s in jsondecode(p).Statement :
      s.Effect == "Deny" || !contains(flatten([s.Resource]), "*") || alltrue([for a in flatten([s.Action]) : contains([
        "ec2:DescribeInstances", "ec2:CreateFleet", "ssm:DescribeParameters",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords",
      ], a)])
    ]]))
    error_message = "a role policy grants an action with resource-level permissions on \"*\""
  }
  assert {
    condition = length([for s in jsondecode(output.iam_policies["runner"]).Statement : s
      if s.Sid == "OwnToken" && s.Resource == "arn:aws:ssm:eu-west-1:123456789012:parameter/ghr-test/runners/*/tokens/*" &&
      try(s.Condition.StringEquals["ec2:SourceInstanceARN"], "") == "arn:aws:ec2:eu-west-1:123456789012:instance/$${aws:ResourceTag/ghr:instance-id}"
    ]) == 1
    error_message = "the runner may read and delete only this deployment's tokens tagged with its own instance id"
  }
  assert {
    condition = alltrue([for fn in ["scale-up"] : length([for s in jsondecode(output.iam_policies[fn]).Statement : s
      if s.Sid == "PassRunnerRole" && s.Resource == [output.runner_role.arn] && try(s.Condition.StringEquals["iam:PassedToService"], []) == ["ec2.amazonaws.com"]
    ]) == 1])
    error_message = "scale-up may pass only the runner role, and only to EC2"
  }
  assert {
    condition = alltrue([for fn in ["scale-up", "scale-down", "cleanup"] : alltrue([for s in jsondecode(output.iam_policies[fn]).Statement :
      can(s.Condition.StringEquals["ec2:ResourceTag/ghr:environment"]) if contains(flatten([s.Action]), "ec2:TerminateInstances")
    ])])
    error_message = "terminations are conditioned on the ghr:environment tag"
  }
  assert {
    condition = alltrue([for fn in ["scale-up", "scale-down", "cleanup"] : alltrue([for s in jsondecode(output.iam_policies[fn]).Statement :
      can(s.Condition.StringEquals["ec2:ResourceTag/aws:ec2launchtemplate:id"]) if anytrue([for a in flatten([s.Action]) : contains(["ec2:TerminateInstances", "ec2:DeleteTags"], a)]) || try(s.Sid, "") == "MarkRegistered"
    ])])
    error_message = "terminations and tag changes on existing instances require EC2's own aws:ec2launchtemplate:id tag to be one of the deployment's templates"
  }
  assert {
    condition = length([for s in jsondecode(output.iam_policies["scale-up"]).Statement : s
      if contains(flatten([s.Action]), "ec2:RunInstances") && can(s.Condition.StringEquals["aws:RequestTag/ghr:environment"])
    ]) == 1
    error_message = "launches must tag instances and volumes with ghr:environment"
  }
}

run "persistent_configs_with_a_pool" {
  command = apply
  variables {
    runner_configs = {
      build = { labels = ["linux"], instance_types = ["m7i.large"], ephemeral = false, pool_size = 2, pool_owner = "octo-org" }
    }
    redeliver = { enabled = false }
  }

  assert {
    condition     = jsonencode(keys(output.function_names)) == jsonencode(["pool", "scale-down", "scale-up", "spot-interruption", "syncer", "webhook"])
    error_message = "persistent runners need no cleanup; a pool deploys the pool function; redeliver can be turned off; got ${jsonencode(keys(output.function_names))}"
  }
  assert {
    condition     = output.lifecycle_queue == null
    error_message = "no lifecycle queue without ephemeral runners"
  }
}

run "large_configs_travel_in_ssm" {
  command = apply
  variables {
    runner_configs = { for i in range(12) : "config-${i}" => {
      labels         = ["self-hosted", "linux", "x64", "team-${i}", "a-rather-long-label-to-fill-the-environment"]
      instance_types = ["m7i.large", "m7i.xlarge", "m6i.large"]
      idle_config    = [{ cron = "* 9-17 * * 1-5", time_zone = "Europe/Amsterdam", idle_count = 1 }]
    } }
  }

  assert {
    condition     = output.runner_configs_parameter == "/ghr-test/config/runner-configs"
    error_message = "runner configs over runner_configs_inline_max_bytes go to the SSM parameter"
  }
}

run "inline_when_asked" {
  command = apply
  variables {
    runner_configs_storage = "inline"
    runner_configs = { for i in range(12) : "config-${i}" => {
      labels         = ["self-hosted", "linux", "x64", "team-${i}"]
      instance_types = ["m7i.large"]
    } }
  }

  assert {
    condition     = output.runner_configs_parameter == null
    error_message = "runner_configs_storage = inline keeps the configs in RUNNER_CONFIGS"
  }
}
