output "bucket" {
  description = "The dist bucket (name, arn)."
  value       = { name = aws_s3_bucket.dist.id, arn = aws_s3_bucket.dist.arn }
}

output "function" {
  description = "The syncer function: name, arn, role_arn, policy_json."
  value       = { name = module.function.function_name, arn = module.function.function_arn, role_arn = module.function.role_arn, policy_json = module.function.policy_json }
}
