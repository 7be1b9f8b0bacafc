variable "name" {
  description = "The function's short name (webhook, scale-up, …): the function is `<prefix>-<name>`, which also names its role, log group and schedule, and its code and settings are `deployment.functions[name]`."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,29}$", var.name))
    error_message = "name must be 1-30 lower-case letters, digits or hyphens, starting with a letter (with a 24-character prefix it leaves room for role suffixes)."
  }
}

variable "description" {
  description = "What the function does; the description reads `ghr <prefix>: <this>`."
  type        = string
}

variable "deployment" {
  description = "What every function of the deployment shares, built once by the root module (local.deployment; see its comment for each field)."
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
  validation {
    condition     = contains(keys(var.deployment.functions), var.name)
    error_message = "deployment.functions has no entry for this function's name."
  }
}

variable "environment" {
  description = "The function's own environment variables, added to `deployment.environment` and `deployment.functions[name].environment` (together its whole configuration, see docs/configuration.md)."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "IAM statements granted to the function's role besides logging (and tracing and VPC access when enabled)."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "schedule" {
  description = "Invoke the function on an EventBridge Scheduler schedule: expression (rate() or cron()) and IANA time zone; null for no schedule."
  type = object({
    expression = string
    timezone   = optional(string, "UTC")
  })
  default = null
}
