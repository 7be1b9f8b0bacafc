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

output "app_credentials" {
  description = "The App's credentials as the functions read them: SecureString names (id, key, webhook_secret), their ARNs for IAM policies, the key encrypting them (kms_key_arn), and the other Apps' id and key names and ARNs (additional)."
  value = {
    parameters = local.names
    parameter_arns = {
      for k, name in local.names : k => (
        startswith(name, "arn:") ? name : "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(name, "/")}"
      )
    }
    kms_key_arn = local.app_kms_key_arn
    # The other Apps (github_apps), in order: each App's id and key parameter names and ARNs.
    additional = [for names in local.additional_names : {
      parameters = names
      parameter_arns = {
        for k, name in names : k => (
          startswith(name, "arn:") ? name : "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(name, "/")}"
        )
      }
    }]
  }
  # Functions that read a credential are created once its parameter exists.
  depends_on = [aws_ssm_parameter.app, aws_ssm_parameter.additional_app]
}
