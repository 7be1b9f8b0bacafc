variable "prefix" {
  description = "Deployment prefix: names, the ghr:environment tag and the SSM path root."
  type        = string
}

variable "runner_name_prefix" {
  description = "GitHub runner name = this + instance id."
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

variable "kms_key_arn" {
  description = "Key for token SecureStrings and logs (and volumes with volume_kms_key = \"deployment\")."
  type        = string
}

variable "app_kms_key_arn" {
  description = "Key of the App SecureStrings: the functions reading App credentials decrypt with it; the runner role never may."
  type        = string
}

variable "volume_kms_key" {
  description = "Key encrypting runner root volumes: \"aws/ebs\" (the AWS-managed key), \"deployment\" (kms_key_arn) or a key ARN. For a customer-managed key the launching functions get EC2's use of it."
  type        = string
}

variable "enable_session_manager" {
  description = "Let runner instances register with Systems Manager for Session Manager shells (no ssm:GetParameter*)."
  type        = bool
}

variable "encrypt_logs" {
  description = "Encrypt log groups with kms_key_arn."
  type        = bool
}

variable "app_parameter_arns" {
  description = "ARNs of the App id and key parameters (keys id, key)."
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
  description = "GITHUB_POINTS_PER_MINUTE of each container, by function (scale-up, scale-down, cleanup, pool): its part of the deployment's GitHub secondary-limit budget, computed by the root module."
  type        = map(number)
}

variable "cleanup_concurrency" {
  description = "Most cleanup containers at once (the lifecycle queue's maximum_concurrency); the root module divides cleanup's GitHub budget by it."
  type        = number
}

variable "dist_bucket" {
  description = "Name of the bucket holding the runner archives."
  type        = string
}

variable "dist_bucket_arn" {
  description = "ARN of the bucket holding the runner archives."
  type        = string
}

variable "functions" {
  description = "Per-function settings (zip_path or s3 location, memory_size, timeout, reserved_concurrency) for scale-up, scale-down, cleanup and pool."
  type = map(object({
    zip_path             = string
    s3                   = optional(object({ bucket = string, key = string, version = optional(string) }))
    memory_size          = number
    timeout              = number
    reserved_concurrency = number
  }))
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

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
}
