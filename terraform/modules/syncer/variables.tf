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

variable "syncer" {
  description = "The root module's `syncer` variable (validated there): runner_version, runner_targets, runner_repository, credentials, token_parameter, schedule, invoke_after_deploy."
  type = object({
    runner_version      = string
    runner_targets      = list(string)
    runner_repository   = string
    credentials         = string
    token_parameter     = string
    schedule            = string
    invoke_after_deploy = bool
  })
}
