# The deployment's keys and the GitHub App's credentials. A credential given as a value becomes
# a SecureString at /<prefix>/app/{id,key,webhook-secret} encrypted with the App key; one given
# as a parameter name is used as it is. The App key is apart from the deployment's key (tokens,
# logs, archives) so that the runner role, which decrypts tokens, can never decrypt App
# credentials: its key policy denies the runner role outright, whatever IAM policy an operator
# attaches to it.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  arn_prefix      = "arn:${data.aws_partition.current.partition}"
  account_id      = data.aws_caller_identity.current.account_id
  region          = data.aws_region.current.name
  create_key      = var.kms_key_arn == null
  kms_key_arn     = local.create_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  create_app_key  = var.app_kms_key_arn == null
  app_kms_key_arn = local.create_app_key ? aws_kms_key.app[0].arn : var.app_kms_key_arn

  # Parameter name under /<prefix>/app/ of each credential.
  path_names = { id = "id", key = "key", webhook_secret = "webhook-secret" }
  # Which credentials came as values is not secret (and for_each may not be keyed by secrets).
  given = { for k, n in local.path_names : k => n if nonsensitive(var.github_app[k] != null) }
  names = {
    for k, n in local.path_names : k => (contains(keys(local.given), k) ? "/${var.prefix}/app/${n}" : var.github_app_parameters[k])
  }

  # The other Apps: App n (2, 3...) given as values lives at /<prefix>/app/<n>/{id,key}. Which
  # were given and the parameter names are not secret; only the values are.
  additional_count = nonsensitive(length(var.github_apps))
  additional_given = merge([for i in range(local.additional_count) : {
    for k in ["id", "key"] : "${i + 2}/${k}" => { index = i, credential = k } if nonsensitive(var.github_apps[i][k] != null)
  }]...)
  additional_names = [for i in range(local.additional_count) : {
    for k in ["id", "key"] : k => (
      contains(keys(local.additional_given), "${i + 2}/${k}") ? "/${var.prefix}/app/${i + 2}/${k}" : nonsensitive(var.github_apps[i]["${k}_parameter"])
    )
  }]
}

locals {
  # The account administers the key through IAM, as with the key policy AWS gives new keys;
  # CloudWatch Logs may use it for this account's log groups only.
  key_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn_prefix}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncrypts"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:*" }
        }
      },
      ], [for st in [
        # Runner volumes use this key: EC2 Fleet and Spot launch through their service-linked
        # roles, which no IAM policy of ours can extend. They are named by aws:PrincipalArn, not
        # as principals, because a key policy naming a role that does not exist yet (an account
        # that never launched Spot) is refused.
        {
          Sid       = "EC2FleetAndSpotUseVolumeKey"
          Effect    = "Allow"
          Principal = { AWS = "*" }
          Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
          Resource  = "*"
          Condition = {
            StringEquals = { "kms:CallerAccount" = local.account_id }
            ArnEquals    = { "aws:PrincipalArn" = local.fleet_service_linked_roles }
          }
        },
        {
          Sid       = "EC2FleetAndSpotGrantVolumeKey"
          Effect    = "Allow"
          Principal = { AWS = "*" }
          Action    = "kms:CreateGrant"
          Resource  = "*"
          Condition = {
            StringEquals = { "kms:CallerAccount" = local.account_id }
            ArnEquals    = { "aws:PrincipalArn" = local.fleet_service_linked_roles }
            Bool         = { "kms:GrantIsForAWSResource" = "true" }
          }
        },
    ] : st if var.volume_key_service_linked_roles])
  })

  fleet_service_linked_roles = [
    "${local.arn_prefix}:iam::${local.account_id}:role/aws-service-role/ec2fleet.amazonaws.com/AWSServiceRoleForEC2Fleet",
    "${local.arn_prefix}:iam::${local.account_id}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
  ]

  # The App key: administered through IAM like the deployment key; the runner role may do
  # nothing with it. An explicit deny in a key policy overrides every allow in any IAM policy.
  app_key_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn_prefix}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "RunnersNeverUseAppKey"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        # Every use of key material, listed rather than kms:*: metadata reads (DescribeKey) stay
        # harmless, and moto applies a kms:* Deny to every caller's DescribeKey whatever the
        # condition (docs/relaxations.md), which would break the apply in the sandbox.
        Action    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant", "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret"]
        Resource  = "*"
        Condition = { ArnEquals = { "aws:PrincipalArn" = [var.runner_role_arn] } }
      },
    ]
  })
}

#tfsec:ignore:aws-iam-no-policy-wildcards In a key policy Resource "*" is this key; kms:* is granted to the account root only, as in AWS's default key policy.
resource "aws_kms_key" "this" {
  count                   = local.create_key ? 1 : 0
  description             = "ghr ${var.prefix}: runner tokens, logs and runner binaries (and runner volumes when chosen)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = local.key_policy_json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count         = local.create_key ? 1 : 0
  name          = "alias/${var.prefix}"
  target_key_id = aws_kms_key.this[0].key_id
}

#tfsec:ignore:aws-iam-no-policy-wildcards In a key policy Resource "*" is this key; kms:* is granted to the account root only (and denied to the runner role).
resource "aws_kms_key" "app" {
  count                   = local.create_app_key ? 1 : 0
  description             = "ghr ${var.prefix}: GitHub App credentials (never usable by runners)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = local.app_key_policy_json
  tags                    = var.tags
}

resource "aws_kms_alias" "app" {
  count         = local.create_app_key ? 1 : 0
  name          = "alias/${var.prefix}-app"
  target_key_id = aws_kms_key.app[0].key_id
}

resource "aws_ssm_parameter" "app" {
  for_each    = local.given
  name        = "/${var.prefix}/app/${each.value}"
  description = "ghr ${var.prefix}: GitHub App ${each.value}"
  type        = "SecureString"
  key_id      = local.app_kms_key_arn
  value       = var.github_app[each.key]
  tags        = var.tags
}

resource "aws_ssm_parameter" "additional_app" {
  for_each    = local.additional_given
  name        = "/${var.prefix}/app/${each.key}"
  description = "ghr ${var.prefix}: GitHub App ${each.key}"
  type        = "SecureString"
  key_id      = local.app_kms_key_arn
  value       = var.github_apps[each.value.index][each.value.credential]
  tags        = var.tags
}
