variable "name" {
  description = "Function name; also names its role, log group and schedule."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9-_]{1,55}$", var.name))
    error_message = "name must be 1-55 letters, digits, hyphens or underscores (room for role suffixes)."
  }
}

variable "description" {
  description = "Function description."
  type        = string
  default     = ""
}

variable "zip_path" {
  description = "Path of the function's zip (from `make dist` or `ghr lambdas fetch`), holding a `bootstrap` executable; uploaded to `code_bucket`. Unused when `code_s3` is set. The root module checks it exists."
  type        = string
  default     = null
}

variable "code_s3" {
  description = "Deploy from this zip already in S3 (bucket in the function's region, key, optional object version) instead of uploading `zip_path`."
  type = object({
    bucket  = string
    key     = string
    version = optional(string)
  })
  default = null
}

variable "code_bucket" {
  description = "Bucket the zip is uploaded to (key lambda/<name>.zip) and deployed from."
  type        = string
}

variable "code_kms_key_arn" {
  description = "KMS key encrypting the uploaded zip; null uses the bucket's default encryption."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Lambda architecture: arm64 or x86_64."
  type        = string
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be 128 to 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be 1 to 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null leaves the function unreserved."
  type        = number
  default     = null
}

variable "environment" {
  description = "Environment variables (the function's whole configuration, see docs/configuration.md)."
  type        = map(string)
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

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the log group; null uses CloudWatch's own encryption."
  type        = string
  default     = null
}

variable "tracing" {
  description = "Enable X-Ray active tracing."
  type        = bool
  default     = false
}

variable "vpc_config" {
  description = "Run the function in these subnets with these security groups; null runs it outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "role_path" {
  description = "Path of the function's IAM role."
  type        = string
  default     = "/"
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the function's role; null for none."
  type        = string
  default     = null
}

variable "schedule" {
  description = "Invoke the function on an EventBridge Scheduler schedule: expression (rate() or cron()) and IANA time zone; null for no schedule."
  type = object({
    expression = string
    timezone   = optional(string, "UTC")
  })
  default = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
