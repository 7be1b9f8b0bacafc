# On-call signals for one deployment: alarms on what breaks a deployment (dead letters, stuck
# jobs, function errors, webhook failures, GitHub headroom, spot churn, sustained deferrals),
# an SNS topic they notify (ours, or the operator's), and a dashboard of the figures read first.
# ghr's own metrics come from the functions' EMF lines (docs/metrics.md), namespace "ghr",
# read here on their deployment-only dimension set.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  s         = var.alarms
  namespace = "ghr"
  dims      = { deployment = var.prefix }
  create    = local.s.enabled
  own_topic = local.create && local.s.sns_topic_arn == null
  topic_arn = local.own_topic ? aws_sns_topic.alarms[0].arn : local.s.sns_topic_arn
  actions   = local.create ? [local.topic_arn] : []

  queue_name = { for k, arn in var.build_queues : k => element(split(":", arn), 5) }
  dlq_names  = { for k, arn in var.dead_letter_queues : k => element(split(":", arn), 5) }
  # Lambda's own metrics by function; the syncer's weekly failure is not an on-call page.
  paged_functions = { for k, n in var.function_names : k => n if k != "syncer" }

  # One evaluation window for rates and short spikes.
  period_seconds = 300

  account = data.aws_caller_identity.current.account_id
  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Account"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarms"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
      },
    ]
  })
}

# CloudWatch may publish to an encrypted topic only with a customer managed key whose policy
# lets it, so the topic has its own small key.
resource "aws_kms_key" "alarms" {
  count                   = local.own_topic ? 1 : 0
  description             = "ghr ${var.prefix}: alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = local.key_policy
  tags                    = var.tags
}

resource "aws_sns_topic" "alarms" {
  count             = local.own_topic ? 1 : 0
  name              = "${var.prefix}-alarms"
  kms_master_key_id = aws_kms_key.alarms[0].arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  count = local.own_topic ? 1 : 0
  arn   = aws_sns_topic.alarms[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarms"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms[0].arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

# Any message in a dead-letter queue is a job (or a completion) ghr gave up on.
resource "aws_cloudwatch_metric_alarm" "dlq" {
  for_each            = local.create && local.s.dlq_messages ? local.dlq_names : {}
  alarm_name          = "${var.prefix}-dlq-${each.key}"
  alarm_description   = "ghr ${var.prefix}: messages in the ${each.key} dead-letter queue. Inspect, then `ghr redrive`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# A job waiting this long is a developer waiting. SQS's age of the oldest message alone misses
# a job scale-up sends back to wait (drained, at max_runners, GitHub pausing): it is re-sent as
# a new message, so its SQS age restarts at each requeue. Scale-up publishes the job's own age
# (WaitingJobAge) each time it sees it, at least once a minute while it waits: the alarm reads
# the larger of the two, in two-minute periods so one late sighting leaves no gap.
resource "aws_cloudwatch_metric_alarm" "queue_age" {
  for_each            = local.create && local.s.queue_age_minutes > 0 ? local.queue_name : {}
  alarm_name          = "${var.prefix}-queue-age-${each.key}"
  alarm_description   = "ghr ${var.prefix}: the oldest ${each.key} job has waited over ${local.s.queue_age_minutes} minutes for a runner."
  evaluation_periods  = 2
  threshold           = local.s.queue_age_minutes * 60
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "oldest"
    expression  = "MAX([sqs, waiting / 1000])"
    label       = "oldest waiting ${each.key} job (seconds)"
    return_data = true
  }
  metric_query {
    id = "sqs"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = each.value }
      stat        = "Maximum"
      period      = 120
    }
  }
  metric_query {
    id = "waiting"
    metric {
      namespace   = local.namespace
      metric_name = "WaitingJobAge"
      dimensions  = merge(local.dims, { config = each.key })
      stat        = "Maximum"
      period      = 120
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = local.create && local.s.function_errors ? local.paged_functions : {}
  alarm_name          = "${var.prefix}-${each.key}-errors"
  alarm_description   = "ghr ${var.prefix}: ${each.key} invocations failed (timeouts and crashes included)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each            = local.create && local.s.function_throttles ? local.paged_functions : {}
  alarm_name          = "${var.prefix}-${each.key}-throttles"
  alarm_description   = "ghr ${var.prefix}: ${each.key} invocations throttled (concurrency exhausted)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# Webhook answers by class, as a share of requests; below ten requests a window a share is noise.
resource "aws_cloudwatch_metric_alarm" "webhook" {
  for_each = local.create ? {
    for c, pct in { "4xx" = local.s.webhook_4xx_percent, "5xx" = local.s.webhook_5xx_percent } : c => pct if pct > 0
  } : {}
  alarm_name          = "${var.prefix}-webhook-${each.key}"
  alarm_description   = "ghr ${var.prefix}: over ${each.value}% of webhook deliveries answered ${each.key} (GitHub marks them failed; 401s are a wrong secret or forged calls, 429 throttling)."
  evaluation_periods  = 1
  threshold           = each.value
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 10, 100 * answers / requests, 0)"
    label       = "${each.key} %"
    return_data = true
  }
  metric_query {
    id = "answers"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = each.key
      dimensions  = { ApiId = var.api_id, Stage = "$default" }
      stat        = "Sum"
      period      = local.period_seconds
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = var.api_id, Stage = "$default" }
      stat        = "Sum"
      period      = local.period_seconds
    }
  }
}

# Primary quota left is what every installation-token call spends; near zero, launches stop.
resource "aws_cloudwatch_metric_alarm" "github_quota" {
  count               = local.create && local.s.github_quota_remaining > 0 ? 1 : 0
  alarm_name          = "${var.prefix}-github-quota"
  alarm_description   = "ghr ${var.prefix}: GitHub rate-limit remaining fell under ${local.s.github_quota_remaining}."
  namespace           = local.namespace
  metric_name         = "GitHubRateLimitRemaining"
  dimensions          = local.dims
  statistic           = "Minimum"
  period              = local.period_seconds
  evaluation_periods  = 1
  threshold           = local.s.github_quota_remaining
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "spot_interruptions" {
  count               = local.create && local.s.spot_interruptions_per_hour > 0 ? 1 : 0
  alarm_name          = "${var.prefix}-spot-interruptions"
  alarm_description   = "ghr ${var.prefix}: over ${local.s.spot_interruptions_per_hour} spot interruptions in an hour; consider more instance types or on-demand."
  namespace           = local.namespace
  metric_name         = "SpotInterruptions"
  dimensions          = local.dims
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = local.s.spot_interruptions_per_hour
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# Deferrals every minute for this long: a config at its maximum, GitHub pausing us, or a drain.
resource "aws_cloudwatch_metric_alarm" "deferrals" {
  count               = local.create && local.s.deferrals_minutes > 0 ? 1 : 0
  alarm_name          = "${var.prefix}-scale-up-deferrals"
  alarm_description   = "ghr ${var.prefix}: scale-up deferred jobs every minute for ${local.s.deferrals_minutes} minutes (max_runners reached, GitHub pausing, or drained)."
  namespace           = local.namespace
  metric_name         = "JobsDeferred"
  dimensions          = local.dims
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = local.s.deferrals_minutes
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# A job ghr stopped watching: a re-check gave it up, or scale-up could not schedule its re-check.
# Either may leave it queued on GitHub with no runner until GitHub cancels it (24 hours).
resource "aws_cloudwatch_metric_alarm" "jobs_given_up" {
  count               = local.create && local.s.jobs_given_up ? 1 : 0
  alarm_name          = "${var.prefix}-jobs-given-up"
  alarm_description   = "ghr ${var.prefix}: a re-check gave up on a job, or a launched job's re-check could not be scheduled; it may wait on GitHub with no runner."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "lost"
    expression  = "FILL(abandoned, 0) + FILL(unscheduled, 0)"
    label       = "jobs given up"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = { abandoned = "JobsAbandoned", unscheduled = "RechecksUnscheduled" }
    content {
      id = metric_query.key
      metric {
        namespace   = local.namespace
        metric_name = metric_query.value
        dimensions  = local.dims
        stat        = "Sum"
        period      = local.period_seconds
      }
    }
  }
}
