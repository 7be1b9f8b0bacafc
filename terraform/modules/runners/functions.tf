# The runner-side functions and their permissions. EC2 mutations are tied to this
# deployment's tags: launches must tag instances and volumes ghr:environment=<prefix> and use
# this deployment's launch templates; terminations and tag changes need that tag already on
# the instance. Describe calls and CreateFleet have no useful resource-level permissions in
# AWS, so those are the only statements on "*".

locals {
  launch_template_arns = [for lt in aws_launch_template.runner : lt.arn]

  read_app_statements = [
    {
      sid        = "ReadAppCredentials"
      actions    = ["ssm:GetParameter"]
      resources  = concat([var.app_parameter_arns["id"], var.app_parameter_arns["key"]], local.configs_read_arns)
      conditions = []
    },
    {
      sid        = "DecryptParameters"
      actions    = ["kms:Decrypt"]
      resources  = [var.kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    },
  ]

  describe_statements = [{
    sid        = "DescribeInstances"
    actions    = ["ec2:DescribeInstances"]
    resources  = ["*"]
    conditions = []
  }]

  terminate_statements = [{
    sid        = "TerminateOwnInstances"
    actions    = ["ec2:TerminateInstances"]
    resources  = [local.instance_arn]
    conditions = [{ test = "StringEquals", variable = "ec2:ResourceTag/${local.tag_environment}", values = [var.prefix] }]
  }]

  launch_statements = [
    {
      sid        = "CreateFleet"
      actions    = ["ec2:CreateFleet"]
      resources  = ["*"]
      conditions = []
    },
    {
      sid       = "LaunchTaggedFromOwnTemplates"
      actions   = ["ec2:RunInstances"]
      resources = [local.instance_arn, local.volume_arn]
      conditions = [
        { test = "StringEquals", variable = "aws:RequestTag/${local.tag_environment}", values = [var.prefix] },
        { test = "ArnEquals", variable = "ec2:LaunchTemplate", values = local.launch_template_arns },
      ]
    },
    {
      sid     = "LaunchResources"
      actions = ["ec2:RunInstances"]
      resources = concat(local.launch_template_arns, [
        "${local.arn_prefix}:ec2:${local.region}::image/*",
        "${local.arn_prefix}:ec2:${local.region}::snapshot/*",
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:subnet/*",
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:security-group/*",
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:network-interface/*",
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:key-pair/*",
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:spot-instances-request/*",
      ])
      conditions = []
    },
    {
      sid        = "TagOnLaunch"
      actions    = ["ec2:CreateTags"]
      resources  = [local.instance_arn, local.volume_arn, "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:spot-instances-request/*"]
      conditions = [{ test = "StringEquals", variable = "ec2:CreateAction", values = ["CreateFleet", "RunInstances"] }]
    },
    {
      sid        = "PassRunnerRole"
      actions    = ["iam:PassRole"]
      resources  = [aws_iam_role.runner.arn]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["ec2.amazonaws.com"] }]
    },
    {
      # Spot and fleet launches need these service-linked roles once per account.
      sid     = "SpotServiceLinkedRoles"
      actions = ["iam:CreateServiceLinkedRole"]
      resources = [
        "${local.arn_prefix}:iam::${local.account_id}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
        "${local.arn_prefix}:iam::${local.account_id}:role/aws-service-role/ec2fleet.amazonaws.com/AWSServiceRoleForEC2Fleet",
      ]
      conditions = [{ test = "StringEquals", variable = "iam:AWSServiceName", values = ["spot.amazonaws.com", "ec2fleet.amazonaws.com"] }]
    },
    {
      sid        = "WriteTokens"
      actions    = ["ssm:PutParameter", "ssm:AddTagsToResource"]
      resources  = [local.token_path_arn]
      conditions = []
    },
    {
      sid        = "EncryptTokens"
      actions    = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources  = [var.kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    },
  ]

  consume_statements = {
    for name, arns in {
      scale-up = [for q in aws_sqs_queue.build : q.arn]
      cleanup  = aws_sqs_queue.lifecycle[*].arn
      } : name => [{
        sid        = "ConsumeQueue"
        actions    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        resources  = arns
        conditions = []
    }]
  }

  scale_down_statements = [
    {
      sid       = "MarkOrphans"
      actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
      resources = [local.instance_arn]
      conditions = [
        { test = "StringEquals", variable = "ec2:ResourceTag/${local.tag_environment}", values = [var.prefix] },
        { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = [local.tag_orphan] },
      ]
    },
    {
      # DescribeParameters has no resource-level permissions; it returns names, never values.
      sid        = "ListTokens"
      actions    = ["ssm:DescribeParameters"]
      resources  = ["*"]
      conditions = []
    },
    {
      sid        = "DeleteStaleTokens"
      actions    = ["ssm:DeleteParameter", "ssm:DeleteParameters"]
      resources  = [local.token_path_arn]
      conditions = []
    },
  ]

  # name => [environment, statements, schedule]; cleanup and pool only when a config needs them.
  function_specs = merge(
    {
      scale-up = {
        description = "Launches runners for queued jobs"
        environment = merge(local.common_env, local.app_env, local.runner_configs_env, local.launch_env)
        statements  = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.launch_statements, local.consume_statements["scale-up"])
        schedule    = null
      }
      scale-down = {
        description = "Removes idle, orphaned and ghost runners and stale tokens"
        environment = merge(local.common_env, local.app_env, local.runner_configs_env)
        statements  = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.scale_down_statements)
        schedule    = { expression = var.scale_down_schedule, timezone = "UTC" }
      }
    },
    local.any_ephemeral ? {
      cleanup = {
        description = "Terminates a finished ephemeral runner's instance"
        environment = merge(local.common_env, local.app_env, local.runner_configs_env)
        statements  = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.consume_statements["cleanup"])
        schedule    = null
      }
    } : {},
    local.any_pool ? {
      pool = {
        description = "Keeps warm pools of idle runners topped up"
        environment = merge(local.common_env, local.app_env, local.runner_configs_env, local.launch_env)
        statements  = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.launch_statements)
        schedule    = var.pool_schedule
      }
    } : {},
  )
}

module "function" {
  source   = "../function"
  for_each = local.function_specs

  name                 = "${var.prefix}-${each.key}"
  description          = "ghr ${var.prefix}: ${each.value.description}"
  zip_path             = var.functions[each.key].zip_path
  code_bucket          = var.dist_bucket
  code_kms_key_arn     = var.kms_key_arn
  architecture         = var.lambda_architecture
  memory_size          = var.functions[each.key].memory_size
  timeout              = var.functions[each.key].timeout
  reserved_concurrency = var.functions[each.key].reserved_concurrency
  environment          = each.value.environment
  policy_statements    = each.value.statements
  schedule             = each.value.schedule
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = var.encrypt_logs ? var.kms_key_arn : null
  tracing              = var.tracing
  vpc_config           = var.lambda_vpc_config
  role_path            = var.role_path
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

# Every build queue feeds scale-up. Batches report failed items so one job without capacity
# does not send its whole batch back; maximum_concurrency bounds pollers per queue without
# serialising a burst.
resource "aws_lambda_event_source_mapping" "scale_up" {
  for_each                           = var.runner_configs
  event_source_arn                   = aws_sqs_queue.build[each.key].arn
  function_name                      = module.function["scale-up"].function_name
  batch_size                         = var.scale_up.batch_size
  maximum_batching_window_in_seconds = var.scale_up.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  tags                               = var.tags

  scaling_config {
    maximum_concurrency = var.scale_up.maximum_concurrency
  }
}

resource "aws_lambda_event_source_mapping" "cleanup" {
  count                   = local.any_ephemeral ? 1 : 0
  event_source_arn        = aws_sqs_queue.lifecycle[0].arn
  function_name           = module.function["cleanup"].function_name
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  tags                    = var.tags
}
