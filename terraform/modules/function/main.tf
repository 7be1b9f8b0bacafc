# One Lambda function with everything it needs to run alone: its own least-privilege role,
# its log group (created before the function so Lambda never creates one without retention),
# and optionally the EventBridge Scheduler schedule that invokes it.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name     = "${var.deployment.prefix}-${var.name}"
  settings = var.deployment.functions[var.name]

  log_group_name = "/aws/lambda/${local.name}"
  log_group_arn  = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group_name}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.deployment.log_retention_days
  kms_key_id        = var.deployment.encrypt_log_groups ? var.deployment.kms_key_arn : null
  tags              = var.deployment.tags
}

resource "aws_iam_role" "this" {
  name                 = local.name
  path                 = var.deployment.role_path
  permissions_boundary = var.deployment.role_permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.deployment.tags
}

# Policies are rendered with jsonencode rather than the aws_iam_policy_document data source
# so that `terraform test` with a mock provider sees the real documents.
locals {
  # X-Ray and VPC networking actions have no resource-level permissions: AWS only accepts "*"
  # for them.
  base_statements = concat(
    [{
      sid        = "Logs"
      actions    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources  = ["${local.log_group_arn}:*"]
      conditions = []
    }],
    var.deployment.tracing_enabled ? [{
      sid        = "Tracing"
      actions    = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources  = ["*"]
      conditions = []
    }] : [],
    var.deployment.lambda_vpc == null ? [] : [{
      sid = "VpcNetworking"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources  = ["*"]
      conditions = []
    }],
  )
  statements = [
    for st in concat(local.base_statements, var.policy_statements) : merge(
      { Sid = st.sid, Effect = "Allow", Action = st.actions, Resource = st.resources },
      length(st.conditions) == 0 ? {} : {
        Condition = {
          for test in distinct([for c in st.conditions : c.test]) :
          test => { for c in st.conditions : c.variable => c.values if c.test == test }
        }
      },
    )
  ]
  policy_json = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

#tfsec:ignore:aws-iam-no-policy-wildcards Resources are this deployment's own paths and tag-conditioned ARNs; the few "*" are for actions AWS offers no resource-level permission for (see each module's statements).
resource "aws_iam_role_policy" "this" {
  name   = "function"
  role   = aws_iam_role.this.id
  policy = local.policy_json
}

# The code goes through S3: the provider creates functions uploaded directly one at a time (it
# holds a lock while reading each zip), but creates functions from S3 in parallel, and S3 takes
# zips of any size.
locals {
  upload = local.settings.s3 == null
  # A missing zip is reported once, with how to get the zips, by the root module's
  # precondition; here it must only not fail the plan with a bare "no file exists".
  zip_hash = local.upload && try(fileexists(local.settings.zip_path), false) ? filebase64sha256(local.settings.zip_path) : null
}

moved {
  from = aws_s3_object.code
  to   = aws_s3_object.code[0]
}

resource "aws_s3_object" "code" {
  count                  = local.upload ? 1 : 0
  bucket                 = var.deployment.dist_bucket.name
  key                    = "lambda/${local.name}.zip"
  source                 = local.settings.zip_path
  source_hash            = local.zip_hash
  server_side_encryption = "aws:kms"
  kms_key_id             = var.deployment.kms_key_arn
  tags                   = var.deployment.tags
}

#tfsec:ignore:aws-lambda-enable-tracing X-Ray is opt-in (tracing_enabled): traces cost per request, and every function logs its decisions as structured JSON.
resource "aws_lambda_function" "this" {
  function_name                  = local.name
  description                    = "ghr ${var.deployment.prefix}: ${var.description}"
  role                           = aws_iam_role.this.arn
  s3_bucket                      = local.upload ? aws_s3_object.code[0].bucket : local.settings.s3.bucket
  s3_key                         = local.upload ? aws_s3_object.code[0].key : local.settings.s3.key
  s3_object_version              = local.upload ? null : local.settings.s3.version
  source_code_hash               = local.zip_hash
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = [var.deployment.lambda_architecture]
  memory_size                    = local.settings.memory_size
  timeout                        = local.settings.timeout
  reserved_concurrent_executions = coalesce(local.settings.reserved_concurrency, -1)
  tags                           = var.deployment.tags

  environment {
    variables = merge(var.deployment.environment, local.settings.environment, var.environment)
  }

  tracing_config {
    mode = var.deployment.tracing_enabled ? "Active" : "PassThrough"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = var.deployment.lambda_vpc == null ? [] : [var.deployment.lambda_vpc]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count                = var.schedule == null ? 0 : 1
  name                 = "${local.name}-schedule"
  path                 = var.deployment.role_path
  permissions_boundary = var.deployment.role_permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "scheduler.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.deployment.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.schedule == null ? 0 : 1
  name  = "invoke"
  role  = aws_iam_role.scheduler[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "Invoke"
      Effect   = "Allow"
      Action   = "lambda:InvokeFunction"
      Resource = aws_lambda_function.this.arn
    }]
  })
}

resource "aws_scheduler_schedule" "this" {
  count                        = var.schedule == null ? 0 : 1
  name                         = local.name
  description                  = "Invokes ${local.name}."
  schedule_expression          = var.schedule.expression
  schedule_expression_timezone = var.schedule.timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode({ source = "ghr.schedule", schedule = local.name })

    # A missed pass is made up by the next one: retrying a late pass only doubles the work.
    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 300
    }
  }
}
