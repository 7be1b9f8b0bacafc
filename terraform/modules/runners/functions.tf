# The runner-side functions and their permissions. EC2 mutations are tied to this
# deployment's tags: launches must tag instances and volumes ghr:environment=<prefix> and use
# this deployment's launch templates; terminations and tag changes need that tag already on
# the instance. Describe calls and CreateFleet have no useful resource-level permissions in
# AWS, so those are the only statements on "*".

locals {
  # Built from the account id rather than taken from lt.arn: a provider configured with
  # skip_requesting_account_id (examples/local) computes template ARNs without the account, and
  # ec2:LaunchTemplate then never matches the ARN EC2 evaluates (the sandbox's IAM evaluation
  # refused every launch). Identical to lt.arn on AWS otherwise.
  launch_template_arns = [for lt in aws_launch_template.runner : "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:launch-template/${lt.id}"]
  # aws:ec2launchtemplate:id is set by EC2 on every launch from a template and cannot be
  # created or deleted by anyone: unlike ghr's own tags it proves an instance is this
  # deployment's, so every change to an existing instance requires it.
  own_template_condition = { test = "StringEquals", variable = "ec2:ResourceTag/aws:ec2launchtemplate:id", values = [for lt in aws_launch_template.runner : lt.id] }
  # What every termination and tag change requires of an existing instance.
  own_instance_conditions = [
    { test = "StringEquals", variable = "ec2:ResourceTag/${local.tag_environment}", values = [local.prefix] },
    { test = "StringEquals", variable = "ec2:ResourceTag/${local.tag_created_by}", values = local.created_by_values },
    local.own_template_condition,
  ]

  # The other Apps' id and key (github_apps), read by every function that reads the App's.
  additional_app_arns = flatten([for a in var.app_credentials.additional : [a.parameter_arns.id, a.parameter_arns.key]])

  read_app_statements = [
    {
      sid     = "ReadAppCredentials"
      actions = ["ssm:GetParameter"]
      # ${prefix}/drain: the operators' drain switch (internal/drain), read by scale-up and the pool.
      resources  = concat([var.app_credentials.parameter_arns.id, var.app_credentials.parameter_arns.key, local.drain_parameter_arn], local.additional_app_arns, local.configs_read_arns)
      conditions = []
    },
    {
      sid        = "DecryptParameters"
      actions    = ["kms:Decrypt"]
      resources  = distinct([var.deployment.kms_key_arn, var.app_credentials.kms_key_arn])
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    },
  ]

  # The spot circuit breaker (interruption.Gate) lists the interruption records; GetParametersByPath
  # is authorized on the path itself, not on the parameters under it. Clean-up's grant on the
  # records is rerun_statements (interruptions.tf).
  list_interruptions_statements = [{
    sid        = "ListInterruptions"
    actions    = ["ssm:GetParametersByPath"]
    resources  = ["${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${local.prefix}/interruptions"]
    conditions = []
  }]

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
    conditions = local.own_instance_conditions
  }]

  launch_statements = concat([
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
        { test = "StringEquals", variable = "aws:RequestTag/${local.tag_environment}", values = [local.prefix] },
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
      # After registration: tells a runner from a host whose launching invocation died, and
      # records the runner id GitHub gave each host (clean-up and scale-down match on it).
      sid       = "MarkRegistered"
      actions   = ["ec2:CreateTags"]
      resources = [local.instance_arn]
      conditions = concat(local.own_instance_conditions, [
        { test = "ForAllValues:StringLike", variable = "aws:TagKeys", values = [local.tag_registered, local.tag_runner_id] },
      ])
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
      resources  = [var.deployment.kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    },
  ], local.volume_key_statements)

  # What a principal launching instances with volumes under a customer-managed key needs, as
  # AWS documents for EBS encryption: EC2 creates the volume's grant and data key with the
  # launcher's credentials. Only through EC2, and grants only for AWS resources.
  volume_key_statements = [for st in [
    {
      sid        = "VolumeKeyThroughEC2"
      actions    = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
      resources  = [local.volume_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ec2.${local.region}.amazonaws.com"] }]
    },
    {
      sid       = "VolumeKeyGrantThroughEC2"
      actions   = ["kms:CreateGrant"]
      resources = [local.volume_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["ec2.${local.region}.amazonaws.com"] },
        { test = "Bool", variable = "kms:GrantIsForAWSResource", values = ["true"] },
      ]
    },
  ] : st if local.volume_key_customer_managed]

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
  # Scale-up puts jobs it cannot serve yet back on their build queue with a delay, and
  # schedules each ephemeral launch's re-check on the lifecycle queue (internal/reconcile).
  requeue_statements = [{
    sid        = "RequeueJobs"
    actions    = ["sqs:SendMessage"]
    resources  = concat([for q in aws_sqs_queue.build : q.arn], aws_sqs_queue.lifecycle[*].arn)
    conditions = []
  }]
  # Clean-up runs the re-checks: it sends a job with no runner left back to its build queue,
  # schedules the next check on the lifecycle queue, and records on an instance which job its
  # runner took (from the in_progress event), which settles the check without asking GitHub.
  reconcile_statements = [
    {
      sid        = "RelaunchAndRecheck"
      actions    = ["sqs:SendMessage"]
      resources  = concat([for q in aws_sqs_queue.build : q.arn], aws_sqs_queue.lifecycle[*].arn)
      conditions = []
    },
    {
      sid       = "MarkTookJob"
      actions   = ["ec2:CreateTags"]
      resources = [local.instance_arn]
      conditions = concat(local.own_instance_conditions, [
        { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = [local.tag_took_job] },
      ])
    },
  ]

  scale_down_statements = [
    {
      sid       = "MarkOrphans"
      actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
      resources = [local.instance_arn]
      conditions = concat(local.own_instance_conditions, [
        { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = [local.tag_orphan] },
      ])
    },
    {
      # DescribeParameters has no resource-level permissions; it returns names, never values.
      sid        = "ListTokens"
      actions    = ["ssm:DescribeParameters"]
      resources  = ["*"]
      conditions = []
    },
    {
      sid        = "RecordLastPass"
      actions    = ["ssm:PutParameter"]
      resources  = [local.last_pass_parameter_arn]
      conditions = []
    },
    {
      sid        = "DeleteStaleTokens"
      actions    = ["ssm:DeleteParameter", "ssm:DeleteParameters"]
      resources  = [local.token_path_arn]
      conditions = []
    },
  ]

  function_environments = {
    scale-up   = merge(local.app_env, local.runner_configs_env, local.launch_env, local.breaker_env, local.recheck_env)
    scale-down = merge(local.app_env, local.runner_configs_env)
    cleanup    = merge(local.app_env, local.runner_configs_env, local.recheck_env)
    pool       = merge(local.app_env, local.runner_configs_env, local.launch_env, local.breaker_env)
    # interruptions.tf; the runner configs give the launch template ids that prove an
    # event's instance is ours.
    spot-interruption = merge(local.app_env, local.runner_configs_env, local.breaker_env)
  }
}

# One module block per function rather than one for_each: tfsec cannot evaluate a for_each
# whose keys depend on the runner configs, and then scans none of its instances (with
# for_each, examples/default's scan lost the four functions' findings; docs/decisions.md).
module "scale_up" {
  source = "../function"

  name              = "scale-up"
  description       = "Launches runners for queued jobs"
  deployment        = var.deployment
  environment       = local.function_environments["scale-up"]
  policy_statements = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.launch_statements, local.consume_statements["scale-up"], local.requeue_statements, local.list_interruptions_statements)
}

module "scale_down" {
  source = "../function"

  name              = "scale-down"
  description       = "Removes idle, orphaned and ghost runners and stale tokens"
  deployment        = var.deployment
  environment       = local.function_environments["scale-down"]
  policy_statements = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.scale_down_statements)
  schedule          = { expression = var.scale_down_schedule, timezone = "UTC" }
}

module "cleanup" {
  source = "../function"
  count  = local.any_ephemeral ? 1 : 0

  name              = "cleanup"
  description       = "Terminates a finished ephemeral runner's instance"
  deployment        = var.deployment
  environment       = local.function_environments["cleanup"]
  policy_statements = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.consume_statements["cleanup"], local.rerun_statements, local.reconcile_statements)
}

module "pool" {
  source = "../function"
  count  = local.any_pool ? 1 : 0

  name              = "pool"
  description       = "Keeps warm pools of idle runners topped up"
  deployment        = var.deployment
  environment       = local.function_environments["pool"]
  policy_statements = concat(local.read_app_statements, local.describe_statements, local.terminate_statements, local.launch_statements, local.list_interruptions_statements)
  schedule          = var.pool_schedule
}

# Every build queue feeds scale-up. Batches report failed items so one job without capacity
# does not send its whole batch back; maximum_concurrency bounds pollers per queue without
# serialising a burst, and divides scale-up's GitHub budget (GITHUB_POINTS_PER_MINUTE).
resource "aws_lambda_event_source_mapping" "scale_up" {
  for_each                           = var.runner_configs
  event_source_arn                   = aws_sqs_queue.build[each.key].arn
  function_name                      = module.scale_up.function_name
  batch_size                         = var.scale_up.batch_size
  maximum_batching_window_in_seconds = var.scale_up.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  tags                               = local.tags

  scaling_config {
    maximum_concurrency = var.scale_up.maximum_concurrency
  }
}

# Bounded so cleanup's share of the GitHub budget can be divided among its containers; the
# instance itself shuts down after its job, so cleanup only hastens that.
resource "aws_lambda_event_source_mapping" "cleanup" {
  count                   = local.any_ephemeral ? 1 : 0
  event_source_arn        = aws_sqs_queue.lifecycle[0].arn
  function_name           = module.cleanup[0].function_name
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  tags                    = local.tags

  scaling_config {
    maximum_concurrency = var.cleanup_concurrency
  }
}
