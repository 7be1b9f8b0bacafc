output "function_name" {
  description = "Function name, known once the role's policy is in place (an SQS event source mapping is refused before the role may read the queue)."
  value       = aws_lambda_function.this.function_name
  depends_on  = [aws_iam_role_policy.this]
}

output "function_arn" {
  description = "Function ARN, known once the role's policy is in place."
  value       = aws_lambda_function.this.arn
  depends_on  = [aws_iam_role_policy.this]
}

output "invoke_arn" {
  description = "ARN API Gateway invokes."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_name" {
  description = "Name of the function's schedule, or null."
  value       = one(aws_scheduler_schedule.this[*].name)
}

output "policy_json" {
  description = "The policy of the function's role."
  value       = local.policy_json
}

output "code_id" {
  description = "Identity of the deployed code: the zip's SHA-256, or the S3 location with its object version. Changes whenever the code does."
  value       = local.upload ? local.zip_hash : jsonencode(local.settings.s3)
}

output "environment" {
  description = "The function's whole environment (common, per-function and its own variables)."
  value       = aws_lambda_function.this.environment[0].variables
}

output "summary" {
  description = "What the root module reports of the function: name, arn, role_arn, policy_json."
  value = {
    name        = aws_lambda_function.this.function_name
    arn         = aws_lambda_function.this.arn
    role_arn    = aws_iam_role.this.arn
    policy_json = local.policy_json
  }
  depends_on = [aws_iam_role_policy.this]
}
