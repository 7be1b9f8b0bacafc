variable "prefix" {
  description = "Deployment prefix."
  type        = string
  default     = "ghr-local"
}

variable "aws_endpoint" {
  description = "URL of the local AWS emulator (moto_server), e.g. http://127.0.0.1:5000. Every AWS call goes there."
  type        = string
  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/?$", var.aws_endpoint))
    error_message = "aws_endpoint must be a loopback http URL: this example never talks to real AWS."
  }
}

variable "github_api_url" {
  description = "GitHub API URL (the GitHub simulator's URL in the sandbox)."
  type        = string
}

variable "github_app_id" {
  description = "GitHub App id."
  type        = string
}

variable "github_app_key_base64" {
  description = "GitHub App private key, base64 of the PEM."
  type        = string
  sensitive   = true
}

variable "github_apps" {
  description = "More GitHub Apps (the simulator's), each installed on the same owners without a webhook: `id` and `key_base64` (base64 of the PEM). The sandbox's several-App burst sets them."
  type = list(object({
    id         = string
    key_base64 = string
  }))
  sensitive = true
  default   = []
}

variable "webhook_secret" {
  description = "Webhook secret shared with the (simulated) GitHub App."
  type        = string
  sensitive   = true
}

variable "dist_dir" {
  description = "Directory of the function zips (`make dist`)."
  type        = string
  default     = "../../dist"
}

variable "lambda_architecture" {
  description = "Architecture the zips were built for: arm64 or x86_64 (the sandbox runs them on this machine)."
  type        = string
  default     = "arm64"
}

variable "pool_size" {
  description = "Warm pool of the small config; above 0 deploys the pool function (needs dist/pool.zip)."
  type        = number
  default     = 0
}

variable "small_max_runners" {
  description = "Maximum runners of the small config (the sandbox's burst test raises it)."
  type        = number
  default     = 20
  validation {
    condition     = var.small_max_runners >= 1
    error_message = "small_max_runners must be at least 1."
  }
}

variable "recheck_after" {
  description = "When a launch of ephemeral runners is first re-checked (scale_up.recheck_after): the sandbox's hosts boot in seconds, so 30s rather than the module's 4m; a host still booting only costs another check."
  type        = string
  default     = "30s"
}
