# Runner side of a deployment: per runner config a build queue (with its dead-letter queue) and
# a launch template; the runner role; the functions that launch and remove runners
# (scale-up, scale-down, and when configs need them, cleanup and pool); and the runner-configs
# document every function reads (RUNNER_CONFIGS, internal/config/runners.go).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  prefix     = var.deployment.prefix
  tags       = var.deployment.tags
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # Tag keys: internal/tags/tags.go.
  tag_environment   = "ghr:environment"
  tag_runner_config = "ghr:runner-config"
  tag_instance_id   = "ghr:instance-id"
  tag_orphan        = "ghr:orphan"
  tag_registered    = "ghr:registered"
  tag_created_by    = "ghr:created-by" # tags.CreatedBy: only ghr's launches set it (not terraform-aws-github-runner's ghr:created_by)
  created_by_values = ["scale-up", "pool"]
  tag_runner_id     = "ghr:runner-id/i-*" # tags.RunnerIDKey: one key per instance id
  tag_took_job      = "ghr:took-job"      # tags.TookJob: the job a runner took, set by clean-up

  any_ephemeral = anytrue([for c in values(var.runner_configs) : c.ephemeral])
  any_pool      = anytrue([for c in values(var.runner_configs) : c.pool_size > 0])

  drain_parameter_arn = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${local.prefix}/drain"
  # scaledown.LastPassPath: each scale-down pass overwrites it with what it did (ghr status).
  last_pass_parameter_arn = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${local.prefix}/scale-down/last-pass"
  token_path_arn          = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${local.prefix}/runners/*/tokens/*"
  instance_arn            = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:instance/*"
  volume_arn              = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:volume/*"

  # The runner-configs document. Optional fields are left out rather than sent as null, so the
  # JSON reads exactly like the schema's examples; unknown fields would be rejected by the
  # functions, so nothing else may be added here.
  runner_configs = [
    for key in sort(keys(var.runner_configs)) : merge(
      {
        key                     = key
        labels                  = var.runner_configs[key].labels
        match                   = var.runner_configs[key].match
        priority                = var.runner_configs[key].priority
        queue_url               = aws_sqs_queue.build[key].url
        level                   = var.runner_configs[key].level
        ephemeral               = var.runner_configs[key].ephemeral
        use_job_labels          = var.runner_configs[key].use_job_labels
        launch_template         = aws_launch_template.runner[key].name
        launch_template_id      = aws_launch_template.runner[key].id
        instance_types          = var.runner_configs[key].instance_types
        subnet_ids              = var.runner_configs[key].subnet_ids
        capacity_type           = var.runner_configs[key].capacity_type
        max_runners             = var.runner_configs[key].max_runners
        minimum_running_minutes = var.runner_configs[key].minimum_running_minutes
        boot_minutes            = var.runner_configs[key].boot_minutes
        idle_eviction           = var.runner_configs[key].idle_eviction
        pool_size               = var.runner_configs[key].pool_size
      },
      var.runner_configs[key].runner_group == "" ? {} : { runner_group = var.runner_configs[key].runner_group },
      var.runner_configs[key].allocation_strategy == null ? {} : { allocation_strategy = var.runner_configs[key].allocation_strategy },
      var.runner_configs[key].on_demand_failover_errors == null ? {} : { on_demand_failover_errors = var.runner_configs[key].on_demand_failover_errors },
      length(var.runner_configs[key].idle_config) == 0 ? {} : { idle_config = var.runner_configs[key].idle_config },
      var.runner_configs[key].pool_owner == null ? {} : { pool_owner = var.runner_configs[key].pool_owner },
    )
  ]
  runner_configs_json = jsonencode(local.runner_configs)

  # Storage rule. Queue URLs are only known after apply, but whether to create the parameter
  # must be known at plan time: the size is therefore estimated with each queue's URL as AWS
  # spells it (https://sqs.<region>.amazonaws.com/<account>/<name>), which is never shorter
  # than the real one. Lambda allows 4 KB of environment in all; the default limit (3 KB)
  # leaves the rest for the other variables.
  estimated_configs_json = jsonencode([
    for c in local.runner_configs : merge(c, {
      queue_url = "https://sqs.${local.region}.amazonaws.com/${local.account_id}/${local.queue_names[c.key]}"
      # An id is "lt-" and 17 hex digits, unknown until apply.
      launch_template_id = "lt-00000000000000000"
    })
  ])
  configs_in_parameter = var.runner_configs_storage == "parameter" || (
    var.runner_configs_storage == "auto" && length(local.estimated_configs_json) > var.runner_configs_inline_max_bytes
  )
  configs_parameter_name = "/${local.prefix}/config/runner-configs"
  configs_parameter_arn  = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter${local.configs_parameter_name}"
  # An SSM Standard parameter holds 4 KB; above that, Advanced (8 KB).
  standard_parameter_max_bytes = 4096

  runner_configs_env = local.configs_in_parameter ? {
    RUNNER_CONFIGS_PARAMETER = local.configs_parameter_name
    } : {
    RUNNER_CONFIGS = local.runner_configs_json
  }
  configs_read_arns = local.configs_in_parameter ? [local.configs_parameter_arn] : []

  app_env = {
    GITHUB_APP_ID_PARAMETER  = var.app_credentials.parameters.id
    GITHUB_APP_KEY_PARAMETER = var.app_credentials.parameters.key
    GITHUB_API_URL           = var.github_api_url
  }
  # Scale-up and pool launch through the same code (internal/config/pool.go).
  launch_env = {
    TOKEN_KMS_KEY_ID   = var.deployment.kms_key_arn
    CHECK_JOB_QUEUED   = var.scale_up.check_job_queued
    GITHUB_CONCURRENCY = tostring(var.scale_up.github_concurrency)
    OFFERING_CACHE_TTL = var.scale_up.offering_cache_ttl
    MAX_RECEIVE_COUNT  = tostring(var.build_queue.max_receive_count)
  }
  # Ephemeral launches' re-checks (internal/reconcile): scale-up schedules them on the
  # lifecycle queue, clean-up runs them. No lifecycle queue (no ephemeral config), no re-check.
  recheck_env = local.any_ephemeral ? {
    LIFECYCLE_QUEUE_URL = aws_sqs_queue.lifecycle[0].url
    RECHECK_AFTER       = var.scale_up.recheck_after
  } : {}
}

resource "aws_ssm_parameter" "runner_configs" {
  count       = local.configs_in_parameter ? 1 : 0
  name        = local.configs_parameter_name
  description = "ghr ${local.prefix}: runner configs (internal/config/runners.go)"
  # Queue URLs, labels and launch template names: configuration, not a secret.
  type  = "String"
  tier  = length(local.estimated_configs_json) > local.standard_parameter_max_bytes ? "Advanced" : "Standard"
  value = local.runner_configs_json
  tags  = local.tags
}
