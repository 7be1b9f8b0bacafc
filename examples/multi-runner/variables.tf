variable "aws_region" {
  description = "AWS region to deploy in (required: no default, so nothing lands in a region by accident)."
  type        = string
}

variable "prefix" {
  description = "Deployment prefix (names, tags, SSM paths)."
  type        = string
  default     = "ghr-multi"
}

variable "vpc_id" {
  description = "VPC the runners run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the runners launch in."
  type        = list(string)
}

variable "github_app_parameters" {
  description = "Names of the SecureStrings holding the App's id, key (PEM or base64 of PEM) and webhook secret."
  type = object({
    id             = string
    key            = string
    webhook_secret = string
  })
  default = {
    id             = "/github/ghr-app/id"
    key            = "/github/ghr-app/key"
    webhook_secret = "/github/ghr-app/webhook-secret"
  }
}

variable "repository_allowlist" {
  description = "Repositories (owner/repo or owner/*) whose jobs are served; empty serves all."
  type        = list(string)
  default     = []
}
