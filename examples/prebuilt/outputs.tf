output "webhook_url" {
  description = "Set this as the GitHub App's webhook URL."
  value       = module.ghr.webhook_url
}

output "function_names" {
  description = "Deployed functions."
  value       = module.ghr.function_names
}

output "dist_bucket" {
  description = "Bucket of runner archives."
  value       = module.ghr.dist_bucket
}
