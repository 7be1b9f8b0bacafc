# One function deployed from each artifact source the module accepts, against moto_server:
# a zip in a directory (make dist), a zip fetched from a release (ghr lambdas fetch) and a
# versioned S3 object (lambda_s3). The root module maps its inputs onto each function's
# deployment.functions[name].zip_path or .s3; terraform/tests/artifacts.tftest.hcl checks that mapping.

variable "aws_endpoint" {
  type = string
}

variable "dir_zip" {
  type = string
}

variable "fetched_zip" {
  type = string
}

variable "s3" {
  type = object({ bucket = string, key = string, version = string })
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatchlogs = var.aws_endpoint
    iam            = var.aws_endpoint
    lambda         = var.aws_endpoint
    s3             = var.aws_endpoint
    sts            = var.aws_endpoint
  }
}

#tfsec:ignore:aws-s3-enable-bucket-encryption,aws-s3-encryption-customer-key,aws-s3-enable-bucket-logging,aws-s3-enable-versioning,aws-s3-block-public-acls,aws-s3-block-public-policy,aws-s3-ignore-public-acls,aws-s3-no-public-buckets,aws-s3-specify-public-access-block A test bucket in the emulator.
resource "aws_s3_bucket" "code" {
  bucket        = "ghr-art-code"
  force_destroy = true
}

locals {
  # The deployment object the root module builds (terraform/main.tf), reduced to one
  # function per artifact source.
  function = { memory_size = 128, timeout = 10, reserved_concurrency = null, environment = {} }
  deployment = {
    prefix                    = "ghr-art"
    tags                      = {}
    kms_key_arn               = null
    encrypt_log_groups        = false
    log_retention_days        = 1
    lambda_architecture       = "arm64"
    tracing_enabled           = false
    lambda_vpc                = null
    role_path                 = "/"
    role_permissions_boundary = null
    dist_bucket               = { name = aws_s3_bucket.code.id, arn = aws_s3_bucket.code.arn }
    environment               = { PREFIX = "ghr-art" }
    functions = {
      dir     = merge(local.function, { zip_path = var.dir_zip, s3 = null })
      release = merge(local.function, { zip_path = var.fetched_zip, s3 = null })
      s3      = merge(local.function, { zip_path = null, s3 = var.s3 })
    }
  }
}

module "from_dir" {
  source      = "../../../../../terraform/modules/function"
  name        = "dir"
  description = "artifact from a directory"
  deployment  = local.deployment
}

module "from_release" {
  source      = "../../../../../terraform/modules/function"
  name        = "release"
  description = "artifact from a fetched release"
  deployment  = local.deployment
}

module "from_s3" {
  source      = "../../../../../terraform/modules/function"
  name        = "s3"
  description = "artifact from S3"
  deployment  = local.deployment
}

output "code_ids" {
  value = [module.from_dir.code_id, module.from_release.code_id, module.from_s3.code_id]
}
