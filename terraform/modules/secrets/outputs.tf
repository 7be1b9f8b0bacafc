output "kms_key_arn" {
  description = "ARN of the key encrypting the deployment's runner tokens, logs and dist bucket."
  value       = local.kms_key_arn
}

output "app_kms_key_arn" {
  description = "ARN of the key encrypting the App SecureStrings the module creates (never usable by the runner role)."
  value       = local.app_kms_key_arn
}

output "key_policies" {
  description = "Key policy of each key the module creates (deployment, app); null for a key given by ARN."
  value = {
    deployment = local.create_key ? local.key_policy_json : null
    app        = local.create_app_key ? local.app_key_policy_json : null
  }
}

output "app_id_parameter" {
  description = "Name of the SecureString holding the App id."
  value       = local.names["id"]
  depends_on  = [aws_ssm_parameter.app]
}

output "app_key_parameter" {
  description = "Name of the SecureString holding the App private key."
  value       = local.names["key"]
  depends_on  = [aws_ssm_parameter.app]
}

output "webhook_secret_parameter" {
  description = "Name of the SecureString holding the webhook secret."
  value       = local.names["webhook_secret"]
  depends_on  = [aws_ssm_parameter.app]
}

output "parameter_arns" {
  description = "ARNs of the three App parameters (id, key, webhook_secret), for IAM policies."
  value = {
    for k, name in local.names : k => (
      startswith(name, "arn:") ? name : "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(name, "/")}"
    )
  }
}
