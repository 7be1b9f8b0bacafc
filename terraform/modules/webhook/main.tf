# GitHub's side of the deployment: the HTTP API that receives workflow_job webhooks, the
# webhook function that verifies and routes them to the build queues, and the redelivery of
# deliveries that failed (GitHub never retries a failed delivery on its own).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  prefix = var.deployment.prefix
  tags   = var.deployment.tags
  region = data.aws_region.current.name

  webhook_env = merge(var.runner_configs_environment, {
    WEBHOOK_SECRET_PARAMETER = var.app_credentials.parameters.webhook_secret
    REPOSITORY_ALLOWLIST     = join(",", var.repository_allowlist)
    WEBHOOK_SOURCE_RANGES    = join(",", var.webhook_source_ranges)
    MAX_BODY_BYTES           = tostring(var.webhook_max_body_bytes)
    }, var.lifecycle_queue == null ? {} : {
    LIFECYCLE_QUEUE_URL = var.lifecycle_queue.url
  })

  decrypt_statement = {
    sid        = "DecryptParameters"
    actions    = ["kms:Decrypt"]
    resources  = distinct([var.deployment.kms_key_arn, var.app_credentials.kms_key_arn])
    conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
  }

  webhook_statements = [
    {
      sid        = "ReadSecretAndConfigs"
      actions    = ["ssm:GetParameter"]
      resources  = compact([var.app_credentials.parameter_arns.webhook_secret, var.runner_configs_parameter_arn])
      conditions = []
    },
    local.decrypt_statement,
    {
      sid        = "Enqueue"
      actions    = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources  = concat(var.build_queue_arns, var.lifecycle_queue == null ? [] : [var.lifecycle_queue.arn])
      conditions = []
    },
  ]

  redeliver_memory_arn = "arn:${data.aws_partition.current.partition}:ssm:${local.region}:${data.aws_caller_identity.current.account_id}:parameter/${local.prefix}/redeliver/recent"

  redeliver_statements = [
    {
      sid        = "ReadAppCredentials"
      actions    = ["ssm:GetParameter"]
      resources  = [var.app_credentials.parameter_arns.id, var.app_credentials.parameter_arns.key]
      conditions = []
    },
    local.decrypt_statement,
    {
      # internal/redeliver keeps the deliveries it already retried here (a String, no KMS).
      sid        = "RedeliveryMemory"
      actions    = ["ssm:GetParameter", "ssm:PutParameter"]
      resources  = [local.redeliver_memory_arn]
      conditions = []
    },
  ]
}

module "webhook" {
  source = "../function"

  name              = "webhook"
  description       = "verifies workflow_job webhooks and queues them"
  deployment        = var.deployment
  environment       = local.webhook_env
  policy_statements = local.webhook_statements
}

module "redeliver" {
  source = "../function"
  count  = var.redeliver.enabled ? 1 : 0

  name        = "redeliver"
  description = "redelivers failed workflow_job deliveries"
  deployment  = var.deployment
  environment = {
    GITHUB_APP_ID_PARAMETER  = var.app_credentials.parameters.id
    GITHUB_APP_KEY_PARAMETER = var.app_credentials.parameters.key
    GITHUB_API_URL           = var.github_api_url
    REDELIVER_LOOKBACK       = var.redeliver.lookback
    REDELIVER_MAX_PER_PASS   = tostring(var.redeliver.max_per_pass)
  }
  policy_statements = local.redeliver_statements
  schedule          = { expression = var.redeliver.schedule, timezone = "UTC" }
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/apigateway/${local.prefix}-webhook"
  retention_in_days = var.deployment.log_retention_days
  kms_key_id        = var.deployment.encrypt_log_groups ? var.deployment.kms_key_arn : null
  tags              = local.tags
}

resource "aws_apigatewayv2_api" "webhook" {
  name          = "${local.prefix}-webhook"
  description   = "ghr ${local.prefix}: GitHub App webhook"
  protocol_type = "HTTP"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "webhook" {
  api_id                 = aws_apigatewayv2_api.webhook.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = module.webhook.invoke_arn
  payload_format_version = "2.0"
  # GitHub waits 10 s for an answer; the function answers well within that or not at all.
  timeout_milliseconds = 10000
}

resource "aws_apigatewayv2_route" "webhook" {
  api_id    = aws_apigatewayv2_api.webhook.id
  route_key = "POST /webhook"
  target    = "integrations/${aws_apigatewayv2_integration.webhook.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.webhook.id
  name        = "$default"
  auto_deploy = true
  tags        = local.tags

  default_route_settings {
    throttling_burst_limit = var.api_throttling.burst_limit
    throttling_rate_limit  = var.api_throttling.rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      ip               = "$context.identity.sourceIp"
      requestTime      = "$context.requestTime"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      responseLength   = "$context.responseLength"
      integrationError = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = module.webhook.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.webhook.execution_arn}/*/*/webhook"
}
