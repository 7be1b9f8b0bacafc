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
    # The other Apps (root github_apps): their id and key, read like the App's.
    additional = optional(list(object({
      parameters     = object({ id = string, key = string })
      parameter_arns = object({ id = string, key = string })
    })), [])
  })
}

variable "github_api_url" {
  description = "GitHub API URL; empty for github.com (the root module's variable)."
  type        = string
}

variable "runner_configs" {
  description = "Runner configs, normalized by the root module (see its runner_configs variable for each field)."
  type = map(object({
    labels                      = list(string)
    match                       = string
    priority                    = number
    level                       = string
    ephemeral                   = bool
    runner_group                = string
    use_job_labels              = bool
    architecture                = string
    instance_types              = list(string)
    capacity_type               = string
    allocation_strategy         = string
    on_demand_failover_errors   = list(string)
    max_runners                 = number
    minimum_running_minutes     = number
    boot_minutes                = number
    idle_config                 = list(object({ cron = string, time_zone = string, idle_count = number }))
    idle_eviction               = string
    pool_size                   = number
    pool_owner                  = string
    subnet_ids                  = list(string)
    security_group_ids          = list(string)
    ami                         = object({ id = string, name = string, owners = list(string) })
    runner_user                 = string
    runner_dir                  = string
    root_volume_size            = number
    root_volume_type            = string
    metadata_hop_limit          = number
    token_wait_timeout_seconds  = number
    cloudwatch_config_parameter = string
    install_software            = list(string)
    pre_install_script          = string
    post_install_script         = string
  }))
}

variable "vpc_id" {
  description = "VPC of the runners' default security group."
  type        = string
}

variable "runner_configs_storage" {
  description = "inline (RUNNER_CONFIGS), parameter (RUNNER_CONFIGS_PARAMETER) or auto (inline while the JSON fits runner_configs_inline_max_bytes)."
  type        = string
}

variable "runner_configs_inline_max_bytes" {
  description = "Largest runner-configs JSON kept inline by the auto rule."
  type        = number
}

variable "runner_logs" {
  description = "Ship runners' boot and runner logs to the /<prefix>/runners log group (the root module's variable)."
  type        = bool
}

variable "enable_session_manager" {
  description = "Let runner instances register with Systems Manager for Session Manager shells (no ssm:GetParameter*)."
  type        = bool
}

variable "cleanup_concurrency" {
  description = "Most cleanup containers at once (the lifecycle queue's maximum_concurrency); the root module divides cleanup's GitHub budget by it."
  type        = number
}

variable "runner_additional_policy_arns" {
  description = "Managed policies attached to the runner role besides the module's own (never able to read App credentials: the runner policy denies it)."
  type        = list(string)
}

variable "scale_up" {
  description = "Scale-up event source and behaviour."
  type = object({
    batch_size              = number
    batching_window_seconds = number
    maximum_concurrency     = number
    check_job_queued        = string
    github_concurrency      = number
    offering_cache_ttl      = string
    recheck_after           = string
  })
}

variable "build_queue" {
  description = "Build and lifecycle queue settings."
  type = object({
    max_receive_count         = number
    message_retention_seconds = number
  })
}

variable "scale_down_schedule" {
  description = "Schedule expression of scale-down."
  type        = string
}

variable "pool_schedule" {
  description = "Schedule expression and time zone of the pool top-up."
  type = object({
    expression = string
    timezone   = string
  })
}

variable "runner_volume_kms_key" {
  description = "The root module's `runner_volume_kms_key`: \"aws/ebs\" (the AWS-managed key), \"deployment\" (deployment.kms_key_arn) or a key ARN. For a customer-managed key the launching functions get EC2's use of it."
  type        = string
}

variable "spot_circuit_breaker" {
  description = "Spot circuit breaker rule (root variable spot_circuit_breaker)."
  type = object({
    interruptions    = number
    window_minutes   = number
    cooldown_minutes = number
  })
}
