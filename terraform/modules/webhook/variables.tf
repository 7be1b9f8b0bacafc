variable "deployment" {
  description = "What every function of the deployment shares (the root module's local.deployment), passed to the function module."
  type = object({
    prefix                    = string
    tags                      = map(string)
    kms_key_arn               = string
    encrypt_log_groups        = bool
    log_retention_days        = number
    lambda_architecture       = string
    tracing_enabled           = bool
    lambda_vpc                = object({ subnet_ids = list(string), security_group_ids = list(string) })
    role_path                 = string
    role_permissions_boundary = string
    dist_bucket               = object({ name = string, arn = string })
    environment               = map(string)
    functions = map(object({
      zip_path             = string
      s3                   = object({ bucket = string, key = string, version = string })
      memory_size          = number
      timeout              = number
      reserved_concurrency = number
      environment          = map(string)
    }))
  })
}

variable "app_credentials" {
  description = "The GitHub App's credentials (secrets module): parameter names and ARNs (id, key, webhook_secret) and the key encrypting them."
  type = object({
    parameters     = object({ id = string, key = string, webhook_secret = string })
    parameter_arns = object({ id = string, key = string, webhook_secret = string })
    kms_key_arn    = string
  })
}

variable "github_api_url" {
  description = "GitHub API URL; empty for github.com (the root module's variable)."
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

variable "repository_allowlist" {
  description = "owner/repo or owner/* entries admitted; empty admits all."
  type        = list(string)
}

variable "webhook_source_ranges" {
  description = "CIDR ranges webhook requests may come from (the root module's variable, validated there); empty admits all."
  type        = list(string)
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

variable "webhook_max_body_bytes" {
  description = "Largest webhook body accepted (the root module's variable, validated there)."
  type        = number
}
