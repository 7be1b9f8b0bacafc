# Build queues are standard queues (docs/decisions.md: FIFO would forbid the batching window
# and serialise work). Encryption is SQS-managed SSE: the messages carry job metadata, no
# secrets, and a customer key would add a KMS call to every send and receive.

locals {
  queue_names = { for key in keys(var.runner_configs) : key => "${local.prefix}-build-${key}" }

  # A message must stay invisible while one invocation may still be working on it: AWS rejects
  # an event source mapping whose queue hides messages for less than the function's timeout.
  # The batching window and a margin for the invocation's start come on top.
  visibility_margin_seconds    = 30
  build_visibility_seconds     = var.deployment.functions["scale-up"].timeout + var.scale_up.batching_window_seconds + local.visibility_margin_seconds
  lifecycle_visibility_seconds = var.deployment.functions["cleanup"].timeout + local.visibility_margin_seconds
  # Dead letters are kept as long as SQS allows, for inspection and redrive.
  dlq_retention_seconds = 1209600
}

resource "aws_sqs_queue" "build_dlq" {
  for_each                  = var.runner_configs
  name                      = "${local.queue_names[each.key]}-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.dlq_retention_seconds
  tags                      = merge(local.tags, { (local.tag_runner_config) = each.key })
}

resource "aws_sqs_queue" "build" {
  for_each                   = var.runner_configs
  name                       = local.queue_names[each.key]
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.build_visibility_seconds
  message_retention_seconds  = var.build_queue.message_retention_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.build_dlq[each.key].arn
    maxReceiveCount     = var.build_queue.max_receive_count
  })
  tags = merge(local.tags, { (local.tag_runner_config) = each.key })
}

resource "aws_sqs_queue" "lifecycle_dlq" {
  count                     = local.any_ephemeral ? 1 : 0
  name                      = "${local.prefix}-lifecycle-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.dlq_retention_seconds
  tags                      = local.tags
}

resource "aws_sqs_queue" "lifecycle" {
  count                      = local.any_ephemeral ? 1 : 0
  name                       = "${local.prefix}-lifecycle"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.lifecycle_visibility_seconds
  message_retention_seconds  = var.build_queue.message_retention_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.lifecycle_dlq[0].arn
    maxReceiveCount     = var.build_queue.max_receive_count
  })
  tags = local.tags
}
