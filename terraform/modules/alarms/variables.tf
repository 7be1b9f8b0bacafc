variable "prefix" {
  description = "Deployment prefix: names the alarms, topic and dashboard, and is the `deployment` dimension of ghr's metrics."
  type        = string
}

variable "alarms" {
  description = "Alarm switches and thresholds (the root module's `alarms` variable)."
  type = object({
    enabled                     = bool
    sns_topic_arn               = string
    dashboard                   = bool
    dlq_messages                = bool
    queue_age_minutes           = number
    function_errors             = bool
    function_throttles          = bool
    webhook_4xx_percent         = number
    webhook_5xx_percent         = number
    github_quota_remaining      = number
    spot_interruptions_per_hour = number
    deferrals_minutes           = number
    jobs_given_up               = bool
  })
}

variable "function_names" {
  description = "Deployed functions: short name → Lambda function name."
  type        = map(string)
}

variable "build_queues" {
  description = "Per runner config: its build queue's ARN."
  type        = map(string)
}

variable "dead_letter_queues" {
  description = "Dead-letter queue ARNs by a static name (runner config keys, and \"lifecycle\")."
  type        = map(string)
}

variable "api_id" {
  description = "ID of the webhook's HTTP API."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
