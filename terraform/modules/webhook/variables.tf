variable "prefix" {
  description = "Deployment prefix."
  type        = string
}

variable "runner_name_prefix" {
  description = "GitHub runner name = this + instance id."
  type        = string
}

variable "functions" {
  description = "Per-function settings (zip_path or s3 location, memory_size, timeout, reserved_concurrency) for webhook and redeliver."
  type = map(object({
    zip_path             = string
    s3                   = optional(object({ bucket = string, key = string, version = optional(string) }))
    memory_size          = number
    timeout              = number
    reserved_concurrency = number
  }))
}

variable "code_bucket" {
  description = "Bucket the function zips are deployed from (the dist bucket)."
  type        = string
}

variable "runner_configs_environment" {
  description = "RUNNER_CONFIGS or RUNNER_CONFIGS_PARAMETER (from the runners module)."
  type        = map(string)
}

variable "runner_configs_parameter_arn" {
  description = "ARN of the runner-configs parameter, or null when inline."
  type        = string
}

variable "build_queue_arns" {
  description = "ARNs of the build queues the webhook sends to."
  type        = list(string)
}

variable "lifecycle_queue" {
  description = "The lifecycle queue (url, arn), or null."
  type = object({
    url = string
    arn = string
  })
}

variable "webhook_secret_parameter" {
  description = "Name of the webhook secret SecureString."
  type        = string
}

variable "app_parameter_arns" {
  description = "ARNs of the App parameters (keys id, key, webhook_secret)."
  type        = map(string)
}

variable "app_id_parameter" {
  description = "Name of the App id parameter."
  type        = string
}

variable "app_key_parameter" {
  description = "Name of the App key parameter."
  type        = string
}

variable "github_api_url" {
  description = "GitHub API URL; empty for github.com."
  type        = string
}

variable "github_points_per_minute" {
  description = "GITHUB_POINTS_PER_MINUTE of a redeliver container: its part of the deployment's GitHub secondary-limit budget, computed by the root module."
  type        = number
}

variable "kms_key_arn" {
  description = "Key of the SecureStrings and logs."
  type        = string
}

variable "app_kms_key_arn" {
  description = "Key of the App SecureStrings (the webhook secret, App id and key)."
  type        = string
}

variable "encrypt_logs" {
  description = "Encrypt log groups with kms_key_arn."
  type        = bool
}

variable "repository_allowlist" {
  description = "owner/repo or owner/* entries admitted; empty admits all."
  type        = list(string)
}

variable "max_body_bytes" {
  description = "Largest webhook body accepted."
  type        = number
}

variable "redeliver" {
  description = "Missed-webhook redelivery: enabled, schedule, lookback, max_per_pass."
  type = object({
    enabled      = bool
    schedule     = string
    lookback     = string
    max_per_pass = number
  })
}

variable "api_throttling" {
  description = "HTTP API default route throttling: burst_limit and rate_limit (requests per second)."
  type = object({
    burst_limit = number
    rate_limit  = number
  })
}

variable "lambda_architecture" {
  description = "Lambda architecture."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the log groups."
  type        = number
}

variable "tracing" {
  description = "X-Ray active tracing."
  type        = bool
}

variable "lambda_vpc_config" {
  description = "Subnets and security groups of the functions; null for none."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "role_path" {
  description = "Path of every IAM role."
  type        = string
}

variable "permissions_boundary" {
  description = "Permissions boundary of every IAM role; null for none."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
}
