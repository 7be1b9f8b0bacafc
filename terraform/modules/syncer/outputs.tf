output "function" {
  description = "The syncer function: name, arn, role_arn, policy_json."
  value       = module.function.summary
}
