variable "prefix" {
  description = "Deployment prefix: parameters live under /<prefix>/app/."
  type        = string
}

variable "kms_key_arn" {
  description = "Existing KMS key for the SecureStrings, tokens, logs and dist bucket; null creates a key with rotation."
  type        = string
  default     = null
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
  description = "GitHub App credentials: each of id, key (PEM or base64 of PEM) and webhook_secret given as a value (stored as a SecureString by the module) or as the name of an existing SecureString (*_parameter)."
  type = object({
    id                       = optional(string)
    key                      = optional(string)
    webhook_secret           = optional(string)
    id_parameter             = optional(string)
    key_parameter            = optional(string)
    webhook_secret_parameter = optional(string)
  })
  sensitive = true
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
