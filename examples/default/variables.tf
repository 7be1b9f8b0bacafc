variable "aws_region" {
  description = "AWS region to deploy in (required: no default, so nothing lands in a region by accident)."
  type        = string
}

variable "prefix" {
  description = "Deployment prefix (names, tags, SSM paths)."
  type        = string
  default     = "ghr"
}

variable "vpc_id" {
  description = "VPC the runners run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the runners launch in (with a route to the internet, e.g. through a NAT gateway)."
  type        = list(string)
}

variable "github_app_id" {
  description = "Id of your GitHub App."
  type        = string
}

variable "github_app_key_base64" {
  description = "The App's private key, base64 of the PEM file (base64 -w0 app.private-key.pem)."
  type        = string
  sensitive   = true
}

variable "github_webhook_secret" {
  description = "The App's webhook secret."
  type        = string
  sensitive   = true
}
