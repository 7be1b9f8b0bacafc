# Spot interruptions (internal/interruption): EventBridge sends every EC2 spot interruption
# warning and instance stop of the account to the spot-interruption function, which keeps only
# this deployment's instances (by tags, as every listing does): EventBridge cannot filter on
# tags. It records the interruption under /<prefix>/interruptions/ (the circuit breaker's
# state, read by scale-up and the pool) and deregisters the runner; clean-up re-runs the
# interrupted job and marks its run for on-demand.

locals {
  any_spot = anytrue([for c in values(var.runner_configs) : c.capacity_type == "spot"])

  interruptions_path     = "/${local.prefix}/interruptions"
  interruptions_path_arn = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter${local.interruptions_path}"

  breaker_env = {
    SPOT_BREAKER_INTERRUPTIONS = tostring(var.spot_circuit_breaker.interruptions)
    SPOT_BREAKER_WINDOW        = "${var.spot_circuit_breaker.window_minutes}m"
    SPOT_BREAKER_COOLDOWN      = "${var.spot_circuit_breaker.cooldown_minutes}m"
  }

  # Clean-up reads an interrupted instance's record and marks it re-run.
  rerun_statements = [{
    sid        = "MarkReruns"
    actions    = ["ssm:GetParameter", "ssm:PutParameter"]
    resources  = ["${local.interruptions_path_arn}/i-*"]
    conditions = []
  }]
  interruption_statements = concat([
    {
      sid        = "RecordInterruptions"
      actions    = ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameters"]
      resources  = ["${local.interruptions_path_arn}/i-*"]
      conditions = []
    },
  ], local.list_interruptions_statements)

  # Only stops matter after a warning; running/pending changes are not even delivered.
  interruption_rules = {
    spot-warning = {
      description = "EC2 spot interruption warnings"
      pattern     = jsonencode({ source = ["aws.ec2"], detail-type = ["EC2 Spot Instance Interruption Warning"] })
    }
    instance-stop = {
      description = "EC2 instances shutting down or terminated"
      pattern = jsonencode({
        source      = ["aws.ec2"]
        detail-type = ["EC2 Instance State-change Notification"]
        detail      = { state = ["shutting-down", "terminated"] }
      })
    }
  }
}

module "spot_interruption" {
  source = "../function"
  count  = local.any_spot ? 1 : 0

  name        = "spot-interruption"
  description = "Records spot interruptions and deregisters interrupted runners"
  deployment  = var.deployment
  environment = local.function_environments["spot-interruption"]
  # The App's credentials and the runner configs (for their launch template ids); not the
  # drain parameter.
  policy_statements = concat([
    merge(local.read_app_statements[0], { resources = concat([var.app_credentials.parameter_arns.id, var.app_credentials.parameter_arns.key], local.additional_app_arns, local.configs_read_arns) }),
    local.read_app_statements[1],
  ], local.describe_statements, local.interruption_statements)
}

resource "aws_cloudwatch_event_rule" "interruption" {
  for_each      = { for k, r in local.interruption_rules : k => r if local.any_spot }
  name          = "${local.prefix}-${each.key}"
  description   = "ghr ${local.prefix}: ${each.value.description}"
  event_pattern = each.value.pattern
  tags          = local.tags
}

resource "aws_cloudwatch_event_target" "interruption" {
  for_each = aws_cloudwatch_event_rule.interruption
  rule     = each.value.name
  arn      = module.spot_interruption[0].function_arn

  # The warning comes two minutes before the reclaim; an event older than that is moot for
  # deregistration, but the record still feeds the breaker, so it is kept for an hour.
  retry_policy {
    maximum_retry_attempts       = 3
    maximum_event_age_in_seconds = 3600
  }
}

resource "aws_lambda_permission" "interruption" {
  for_each      = aws_cloudwatch_event_rule.interruption
  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.spot_interruption[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value.arn
}
