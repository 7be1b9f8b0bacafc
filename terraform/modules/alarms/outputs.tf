output "sns_topic_arn" {
  description = "Topic the alarms notify (the module's own, or the one given); null when alarms are off."
  value       = local.create ? local.topic_arn : null
}

output "alarm_names" {
  description = "Every alarm created, by kind."
  value = {
    dlq                = [for a in aws_cloudwatch_metric_alarm.dlq : a.alarm_name]
    queue_age          = [for a in aws_cloudwatch_metric_alarm.queue_age : a.alarm_name]
    function_errors    = [for a in aws_cloudwatch_metric_alarm.function_errors : a.alarm_name]
    function_throttles = [for a in aws_cloudwatch_metric_alarm.function_throttles : a.alarm_name]
    webhook            = [for a in aws_cloudwatch_metric_alarm.webhook : a.alarm_name]
    github_quota       = [for a in aws_cloudwatch_metric_alarm.github_quota : a.alarm_name]
    spot_interruptions = [for a in aws_cloudwatch_metric_alarm.spot_interruptions : a.alarm_name]
    deferrals          = [for a in aws_cloudwatch_metric_alarm.deferrals : a.alarm_name]
    jobs_given_up      = [for a in aws_cloudwatch_metric_alarm.jobs_given_up : a.alarm_name]
  }
}

output "dashboard_name" {
  description = "The CloudWatch dashboard's name, or null when off."
  value       = local.s.dashboard ? aws_cloudwatch_dashboard.ghr[0].dashboard_name : null
}
