variable "prefix" {
  description = "Deployment prefix: parameters live under /<prefix>/app/."
  type        = string
}

variable "kms_key_arn" {
  description = "Existing KMS key for runner tokens, logs and the dist bucket; null creates a key with rotation."
  type        = string
  default     = null
}

variable "app_kms_key_arn" {
  description = "Existing KMS key for the App SecureStrings the module creates; null creates one whose key policy denies runner_role_arn. A key of yours must deny the runner role itself."
  type        = string
  default     = null
}

variable "runner_role_arn" {
  description = "The runner instances' role: the App key's policy denies it every use."
  type        = string
}

variable "volume_key_service_linked_roles" {
  description = "The deployment key encrypts runner volumes: its key policy lets the EC2 Fleet and Spot service-linked roles use it (only when the module creates the key)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before a destroyed module key is deleted."
  type        = number
  default     = 30
  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be 7 to 30."
  }
}

variable "github_app" {
  description = "GitHub App credentials given as values (id, key, webhook_secret): each becomes a SecureString under /<prefix>/app/."
  type = object({
    id             = optional(string)
    key            = optional(string)
    webhook_secret = optional(string)
  })
  sensitive = true
  default   = {}
}

variable "github_app_parameters" {
  description = "Names (or ARNs) of existing SecureStrings holding the credentials not given in github_app (id, key, webhook_secret)."
  type = object({
    id             = optional(string)
    key            = optional(string)
    webhook_secret = optional(string)
  })
  default = {}
}

variable "github_apps" {
  description = "The deployment's other Apps (root github_apps): id and key as values, stored under /<prefix>/app/<n>/ (n = 2, 3...), or as parameter names."
  type = list(object({
    id            = optional(string)
    key           = optional(string)
    id_parameter  = optional(string)
    key_parameter = optional(string)
  }))
  sensitive = true
  default   = []
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
