# The dist bucket: private, encrypted with the deployment key, versioned. It holds every
# function's code (lambda/<function>.zip, uploaded by the function module unless the zips come
# from lambda_s3) and the actions/runner archives the syncer keeps current (actions-runner-*),
# which booting runners download. The root owns it because every function's code lives in it.

data "aws_caller_identity" "current" {}

locals {
  dist_bucket_name = coalesce(var.dist_bucket.name, "${var.prefix}-dist-${data.aws_caller_identity.current.account_id}")
}

#tfsec:ignore:aws-s3-enable-bucket-logging Access logging is opt-in (dist_bucket.access_log_bucket): it needs a log bucket this module cannot guess.
resource "aws_s3_bucket" "dist" {
  bucket        = local.dist_bucket_name
  force_destroy = var.dist_bucket.force_destroy
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
      kms_master_key_id = module.secrets.kms_key_arn
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
      noncurrent_days = var.dist_bucket.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.dist]
}

resource "aws_s3_bucket_logging" "dist" {
  count         = var.dist_bucket.access_log_bucket == null ? 0 : 1
  bucket        = aws_s3_bucket.dist.id
  target_bucket = var.dist_bucket.access_log_bucket
  target_prefix = "${local.dist_bucket_name}/"
}

resource "aws_s3_bucket_policy" "dist" {
  count  = var.dist_bucket.require_tls ? 1 : 0
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
