output "kms_key_arn" {
  description = "ARN of the key encrypting the deployment's secrets, tokens, logs and dist bucket."
  value       = local.kms_key_arn
}

output "app_id_parameter" {
  description = "Name of the SecureString holding the App id."
  value       = try(aws_ssm_parameter.app["id"].name, local.names["id"])
}

output "app_key_parameter" {
  description = "Name of the SecureString holding the App private key."
  value       = try(aws_ssm_parameter.app["key"].name, local.names["key"])
}

output "webhook_secret_parameter" {
  description = "Name of the SecureString holding the webhook secret."
  value       = try(aws_ssm_parameter.app["webhook-secret"].name, local.names["webhook-secret"])
}

output "parameter_arns" {
  description = "ARNs of the three App parameters, for IAM policies."
  value = {
    for k, name in local.names : k => (
      startswith(name, "arn:") ? name : "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(name, "/")}"
    )
  }
}
