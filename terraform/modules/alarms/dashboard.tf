# The figures an on-call person reads first, top to bottom: are jobs served, how long do they
# wait, what runs, what failed, how much GitHub headroom is left.

locals {
  region = data.aws_region.current.name
  ghr    = [local.namespace]
  widget = { width = 12, height = 6 }
  ghr_metric = {
    for m in ["JobsReceived", "JobsLaunched", "JobsDeferred", "JobsDropped", "JobsExpired", "JobsFailed",
      "RunnersLive", "RunnersIdle", "RunnersBusy", "InstancesTerminated", "EC2Errors", "GitHubRateLimited",
      "GitHubPacingWaits", "GitHubRateLimitRemaining", "QueueWait", "LaunchLatency", "SpotInterruptions", "Redeliveries",
    "JobsRerun", "JobsRelaunched", "JobsAbandoned", "RechecksUnscheduled"] :
    m => [local.namespace, m, "deployment", var.prefix]
  }
  widgets = [
    { title = "Jobs", stat = "Sum", metrics = [for m in ["JobsReceived", "JobsLaunched", "JobsDeferred", "JobsExpired", "JobsFailed"] : local.ghr_metric[m]] },
    { title = "Queue wait (queued → started), ms", stat = "p90", metrics = [
      local.ghr_metric["QueueWait"], concat(local.ghr_metric["QueueWait"], [{ stat = "p50" }]), concat(local.ghr_metric["LaunchLatency"], [{ stat = "p90" }]),
    ] },
    { title = "Runners", stat = "Maximum", metrics = [for m in ["RunnersLive", "RunnersIdle", "RunnersBusy"] : local.ghr_metric[m]] },
    { title = "Dead letters and oldest queued job (s)", stat = "Maximum", metrics = concat(
      [for k, n in local.dlq_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", n]],
      [for k, n in local.queue_name : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", n]],
    ) },
    { title = "Function errors and throttles", stat = "Sum", metrics = concat(
      [for k, n in local.paged_functions : ["AWS/Lambda", "Errors", "FunctionName", n]],
      [for k, n in local.paged_functions : ["AWS/Lambda", "Throttles", "FunctionName", n]],
    ) },
    { title = "Webhook answers", stat = "Sum", metrics = [
      for m in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", m, "ApiId", var.api_id, "Stage", "$default"]
    ] },
    { title = "Failures: EC2, GitHub, terminations", stat = "Sum", metrics = [for m in ["EC2Errors", "GitHubRateLimited", "GitHubPacingWaits", "InstancesTerminated", "SpotInterruptions", "Redeliveries"] : local.ghr_metric[m]] },
    { title = "Jobs recovered (re-run, relaunched) and given up", stat = "Sum", metrics = [for m in ["JobsRerun", "JobsRelaunched", "JobsAbandoned", "RechecksUnscheduled"] : local.ghr_metric[m]] },
    { title = "GitHub rate limit remaining", stat = "Minimum", metrics = [local.ghr_metric["GitHubRateLimitRemaining"]] },
  ]
}

resource "aws_cloudwatch_dashboard" "ghr" {
  count          = local.s.dashboard ? 1 : 0
  dashboard_name = var.prefix
  dashboard_body = jsonencode({
    widgets = [for i, w in local.widgets : {
      type   = "metric"
      x      = (i % 2) * local.widget.width
      y      = floor(i / 2) * local.widget.height
      width  = local.widget.width
      height = local.widget.height
      properties = {
        title   = w.title
        region  = local.region
        stat    = w.stat
        period  = 60
        view    = "timeSeries"
        metrics = w.metrics
      }
    }]
  })
}
