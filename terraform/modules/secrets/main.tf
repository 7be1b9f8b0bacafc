# The deployment's key and the GitHub App's credentials. A credential given as a value becomes
# a SecureString at /<prefix>/app/<name>; one given as a parameter name is used as it is (and
# must be encrypted with this key or the AWS-managed aws/ssm key).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  arn_prefix  = "arn:${data.aws_partition.current.partition}"
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  create_key  = var.kms_key_arn == null
  kms_key_arn = local.create_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # name => value for the credentials given as values. nonsensitive: which credentials are
  # given is not secret, and for_each may not be keyed by sensitive values.
  given = nonsensitive({
    for k, v in {
      id             = var.github_app.id
      key            = var.github_app.key
      webhook-secret = var.github_app.webhook_secret
    } : k => true if v != null
  })
  values = {
    id             = var.github_app.id
    key            = var.github_app.key
    webhook-secret = var.github_app.webhook_secret
  }
  existing = {
    id             = var.github_app.id_parameter
    key            = var.github_app.key_parameter
    webhook-secret = var.github_app.webhook_secret_parameter
  }
  names = nonsensitive({
    for k in keys(local.values) : k => (lookup(local.given, k, false) ? "/${var.prefix}/app/${k}" : local.existing[k])
  })
}

data "aws_iam_policy_document" "key" {
  count = local.create_key ? 1 : 0

  # The account administers the key through IAM, as with any key AWS creates by default.
  #tfsec:ignore:aws-iam-no-policy-wildcards A key policy's Resource "*" means this key; kms:* is for the account root, as AWS's default key policy.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["${local.arn_prefix}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  count                   = local.create_key ? 1 : 0
  description             = "ghr ${var.prefix}: GitHub App credentials, runner tokens, logs and runner binaries"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.key[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count         = local.create_key ? 1 : 0
  name          = "alias/${var.prefix}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_ssm_parameter" "app" {
  for_each    = local.given
  name        = "/${var.prefix}/app/${each.key}"
  description = "ghr ${var.prefix}: GitHub App ${each.key}"
  type        = "SecureString"
  key_id      = local.kms_key_arn
  value       = local.values[each.key]
  tags        = var.tags
}
