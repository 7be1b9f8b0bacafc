# The runner-binaries syncer: a private, encrypted, versioned bucket of actions/runner
# archives, kept current by a scheduled function (and once right after deploy).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region      = data.aws_region.current.name
  bucket_name = coalesce(var.bucket_name, "${var.prefix}-dist-${data.aws_caller_identity.current.account_id}")
  token_arn = var.token_parameter == null ? null : (
    startswith(var.token_parameter, "arn:") ? var.token_parameter :
    "arn:${data.aws_partition.current.partition}:ssm:${local.region}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(var.token_parameter, "/")}"
  )

  credentials_env = {
    app = {
      GITHUB_APP_ID_PARAMETER  = var.app_id_parameter
      GITHUB_APP_KEY_PARAMETER = var.app_key_parameter
      GITHUB_POINTS_PER_MINUTE = tostring(var.github_points_per_minute)
    }
    token     = { GITHUB_TOKEN_PARAMETER = coalesce(var.token_parameter, "-") }
    anonymous = {}
  }[var.credentials]
  credential_arns = {
    app       = [var.app_parameter_arns["id"], var.app_parameter_arns["key"]]
    token     = compact([local.token_arn])
    anonymous = []
  }[var.credentials]

  environment = merge({
    PREFIX             = var.prefix
    RUNNER_NAME_PREFIX = var.runner_name_prefix
    LOG_LEVEL          = var.log_level
    DIST_BUCKET        = aws_s3_bucket.dist.id
    RUNNER_VERSION     = var.runner_version
    RUNNER_TARGETS     = join(",", var.runner_targets)
    RUNNER_REPOSITORY  = var.runner_repository
    GITHUB_API_URL     = var.github_api_url
  }, local.credentials_env)

  statements = concat(
    [
      {
        sid        = "ListBucket"
        actions    = ["s3:ListBucket"]
        resources  = [aws_s3_bucket.dist.arn]
        conditions = []
      },
      {
        sid        = "WriteArchives"
        actions    = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        resources  = ["${aws_s3_bucket.dist.arn}/actions-runner-*"]
        conditions = []
      },
      {
        sid        = "EncryptArchives"
        actions    = ["kms:GenerateDataKey", "kms:Decrypt"]
        resources  = [var.kms_key_arn]
        conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"] }]
      },
    ],
    length(local.credential_arns) == 0 ? [] : [{
      sid        = "ReadCredentials"
      actions    = ["ssm:GetParameter"]
      resources  = local.credential_arns
      conditions = []
    }],
    var.credentials != "app" ? [] : [{
      sid        = "DecryptAppCredentials"
      actions    = ["kms:Decrypt"]
      resources  = [var.app_kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    }],
  )
}

#tfsec:ignore:aws-s3-enable-bucket-logging Access logging is opt-in (bucket_access_log_bucket): it needs a log bucket this module cannot guess.
resource "aws_s3_bucket" "dist" {
  bucket        = local.bucket_name
  force_destroy = var.bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "dist" {
  bucket = aws_s3_bucket.dist.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "dist" {
  bucket                  = aws_s3_bucket.dist.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "dist" {
  bucket = aws_s3_bucket.dist.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "dist" {
  bucket = aws_s3_bucket.dist.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One KMS call per bucket key period instead of per object read by every booting runner.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "dist" {
  bucket = aws_s3_bucket.dist.id
  rule {
    id     = "expire-replaced-archives"
    status = "Enabled"
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.bucket_noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.dist]
}

resource "aws_s3_bucket_logging" "dist" {
  count         = var.bucket_access_log_bucket == null ? 0 : 1
  bucket        = aws_s3_bucket.dist.id
  target_bucket = var.bucket_access_log_bucket
  target_prefix = "${local.bucket_name}/"
}

resource "aws_s3_bucket_policy" "dist" {
  count  = var.bucket_require_tls ? 1 : 0
  bucket = aws_s3_bucket.dist.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.dist.arn, "${aws_s3_bucket.dist.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.dist]
}

module "function" {
  source = "../function"

  name                 = "${var.prefix}-syncer"
  description          = "ghr ${var.prefix}: copies actions/runner releases into the dist bucket"
  zip_path             = var.function.zip_path
  code_s3              = var.function.s3
  code_bucket          = aws_s3_bucket.dist.id
  code_kms_key_arn     = var.kms_key_arn
  architecture         = var.lambda_architecture
  memory_size          = var.function.memory_size
  timeout              = var.function.timeout
  reserved_concurrency = var.function.reserved_concurrency
  environment          = local.environment
  policy_statements    = local.statements
  schedule             = { expression = var.schedule, timezone = "UTC" }
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = var.encrypt_logs ? var.kms_key_arn : null
  tracing              = var.tracing
  vpc_config           = var.lambda_vpc_config
  role_path            = var.role_path
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

# Runners launched before the first scheduled pass would find no archive to download. The
# invocation reruns whenever the function's code or settings change.
resource "aws_lambda_invocation" "after_deploy" {
  count         = var.invoke_after_deploy ? 1 : 0
  function_name = module.function.function_name
  input         = jsonencode({ source = "ghr.deploy" })
  triggers = {
    code        = module.function.code_id
    environment = sha256(jsonencode(local.environment))
  }
  depends_on = [aws_s3_bucket_server_side_encryption_configuration.dist, aws_s3_bucket_policy.dist]
}
