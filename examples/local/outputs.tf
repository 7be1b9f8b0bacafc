output "webhook_url" {
  description = "Webhook URL as the emulator reports it (the sandbox serves the route itself)."
  value       = module.ghr.webhook_url
}

output "function_names" {
  description = "Deployed functions by short name."
  value       = module.ghr.function_names
}

output "build_queues" {
  description = "Build queues per runner config."
  value       = module.ghr.build_queues
}

output "lifecycle_queue" {
  description = "Lifecycle queue."
  value       = module.ghr.lifecycle_queue
}

output "launch_templates" {
  description = "Launch templates per runner config."
  value       = module.ghr.launch_templates
}

output "webhook_secret_parameter" {
  description = "SSM parameter of the webhook secret."
  value       = module.ghr.webhook_secret_parameter
}

output "app_parameters" {
  description = "SSM parameters of the App id and key."
  value       = module.ghr.app_parameters
}

output "dist_bucket" {
  description = "Bucket of runner archives."
  value       = module.ghr.dist_bucket
}

output "runner_role" {
  description = "Runner role and instance profile."
  value       = module.ghr.runner_role
}

output "kms_key_arn" {
  description = "The deployment's KMS key."
  value       = module.ghr.kms_key_arn
}
