# Runner logs: the boot log and the runner's own logs go to one log group per deployment,
# shipped by the CloudWatch agent the boot installs (install_software) and configures from an
# SSM parameter per runner config (the runner directory differs between configs). An ephemeral
# instance's disk dies with it, so this is where a failed boot can still be read. The boot
# waits shutdown_delay_seconds before powering off, longer than the agent's flush interval,
# so the last lines leave too.

locals {
  runner_log_group_name = "/${local.prefix}/runners"
  runner_log_group_arn  = "${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:${local.runner_log_group_name}"
  # agent_flush_seconds is the agent's force_flush_interval; the boot's power-off delay must
  # exceed it (checked below).
  agent_flush_seconds = 5
  # Configs that ship with the deployment's agent configuration: those naming none of their own.
  agent_configs = var.runner_logs ? { for k, c in var.runner_configs : k => c if c.cloudwatch_config_parameter == "" } : {}
}

resource "aws_cloudwatch_log_group" "runners" {
  count             = var.runner_logs ? 1 : 0
  name              = local.runner_log_group_name
  retention_in_days = var.deployment.log_retention_days
  kms_key_id        = var.deployment.encrypt_log_groups ? var.deployment.kms_key_arn : null
  tags              = var.deployment.tags
}

resource "aws_ssm_parameter" "cloudwatch_agent" {
  for_each    = local.agent_configs
  name        = "/${local.prefix}/cloudwatch-agent/${each.key}"
  description = "CloudWatch agent configuration of ${each.key} runners: boot and runner logs to ${local.runner_log_group_name}"
  type        = "String"
  tier        = "Standard"
  value = jsonencode({
    logs = {
      force_flush_interval = local.agent_flush_seconds
      logs_collected = {
        files = {
          collect_list = [
            { file_path = "/var/log/ghr-bootstrap.log", log_group_name = local.runner_log_group_name, log_stream_name = "{instance_id}/bootstrap", timezone = "UTC" },
            { file_path = "${each.value.runner_dir}/_diag/Runner_*.log", log_group_name = local.runner_log_group_name, log_stream_name = "{instance_id}/runner", timezone = "UTC" },
            { file_path = "${each.value.runner_dir}/_diag/Worker_*.log", log_group_name = local.runner_log_group_name, log_stream_name = "{instance_id}/worker", timezone = "UTC" },
          ]
        }
      }
    }
  })
  tags = var.deployment.tags

  lifecycle {
    precondition {
      condition     = local.shutdown_delay_seconds > local.agent_flush_seconds
      error_message = "The boot's power-off delay must exceed the agent's flush interval, or a failed boot's last lines are lost."
    }
  }
}

locals {
  # The agent configuration each runner config's boot fetches ("" runs no agent).
  cloudwatch_config_parameter = { for k, c in var.runner_configs :
    k => c.cloudwatch_config_parameter != "" ? c.cloudwatch_config_parameter : (var.runner_logs ? aws_ssm_parameter.cloudwatch_agent[k].name : "")
  }
  # Writing to the runner log group only, one stream per instance and log.
  runner_log_statements = var.runner_logs ? [{
    Sid      = "ShipRunnerLogs"
    Effect   = "Allow"
    Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    Resource = "${local.runner_log_group_arn}:*"
  }] : []
}
