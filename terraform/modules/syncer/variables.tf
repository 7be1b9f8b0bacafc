variable "prefix" {
  description = "Deployment prefix."
  type        = string
}

variable "runner_name_prefix" {
  description = "GitHub runner name = this + instance id (common to every function)."
  type        = string
}

variable "function" {
  description = "The syncer's zip_path or s3 location, memory_size, timeout and reserved_concurrency."
  type = object({
    zip_path             = string
    s3                   = optional(object({ bucket = string, key = string, version = optional(string) }))
    memory_size          = number
    timeout              = number
    reserved_concurrency = number
  })
}

variable "kms_key_arn" {
  description = "Key encrypting the bucket, the parameters and the logs."
  type        = string
}

variable "app_kms_key_arn" {
  description = "Key of the App SecureStrings, decrypted when the syncer authenticates as the App."
  type        = string
}

variable "encrypt_logs" {
  description = "Encrypt the log group with kms_key_arn."
  type        = bool
}

variable "bucket_name" {
  description = "Dist bucket name; null derives <prefix>-dist-<account id>."
  type        = string
  default     = null
}

variable "bucket_force_destroy" {
  description = "Let destroy delete the bucket with its runner archives."
  type        = bool
}

variable "bucket_noncurrent_version_days" {
  description = "Days a replaced runner archive is kept before S3 expires it."
  type        = number
}

variable "bucket_access_log_bucket" {
  description = "Bucket receiving S3 access logs of the dist bucket; null for none."
  type        = string
}

variable "bucket_require_tls" {
  description = "Deny every request to the bucket that does not use TLS."
  type        = bool
}

variable "runner_version" {
  description = "latest or x.y.z."
  type        = string
}

variable "runner_targets" {
  description = "Runner archives to keep: <os>-<arch> of actions/runner's assets."
  type        = list(string)
}

variable "runner_repository" {
  description = "owner/name of the runner releases."
  type        = string
}

variable "github_api_url" {
  description = "GitHub API URL; empty for github.com."
  type        = string
}

variable "credentials" {
  description = "app (the GitHub App), token (token_parameter) or anonymous."
  type        = string
}

variable "token_parameter" {
  description = "SecureString holding a GitHub token, for credentials = token."
  type        = string
}

variable "app_parameter_arns" {
  description = "ARNs of the App id and key parameters."
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

variable "github_points_per_minute" {
  description = "GITHUB_POINTS_PER_MINUTE of the syncer when it calls GitHub as the App: its part of the deployment's GitHub secondary-limit budget, computed by the root module."
  type        = number
}

variable "schedule" {
  description = "Schedule expression of the syncer."
  type        = string
}

variable "invoke_after_deploy" {
  description = "Invoke the syncer once when it is created or changed, so runners have binaries before the first schedule."
  type        = bool
}

variable "lambda_architecture" {
  description = "Lambda architecture."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of the function."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the log group."
  type        = number
}

variable "tracing" {
  description = "X-Ray active tracing."
  type        = bool
}

variable "lambda_vpc_config" {
  description = "Subnets and security groups of the function; null for none."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "role_path" {
  description = "Path of the IAM roles."
  type        = string
}

variable "permissions_boundary" {
  description = "Permissions boundary of the IAM roles; null for none."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
}
