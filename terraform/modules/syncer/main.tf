# The runner-binaries syncer: a scheduled function (also run once right after deploy) that keeps
# the actions/runner archives in the dist bucket (the root module's) current.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region          = data.aws_region.current.name
  token_parameter = var.syncer.token_parameter
  token_arn = local.token_parameter == null ? null : (
    startswith(local.token_parameter, "arn:") ? local.token_parameter :
    "arn:${data.aws_partition.current.partition}:ssm:${local.region}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(local.token_parameter, "/")}"
  )

  credentials_env = {
    app = {
      GITHUB_APP_ID_PARAMETER  = var.app_credentials.parameters.id
      GITHUB_APP_KEY_PARAMETER = var.app_credentials.parameters.key
    }
    token     = { GITHUB_TOKEN_PARAMETER = coalesce(local.token_parameter, "-") }
    anonymous = {}
  }[var.syncer.credentials]
  credential_arns = {
    app       = [var.app_credentials.parameter_arns.id, var.app_credentials.parameter_arns.key]
    token     = compact([local.token_arn])
    anonymous = []
  }[var.syncer.credentials]

  bucket = var.deployment.dist_bucket
  environment = merge({
    DIST_BUCKET       = local.bucket.name
    RUNNER_VERSION    = var.syncer.runner_version
    RUNNER_TARGETS    = join(",", var.syncer.runner_targets)
    RUNNER_REPOSITORY = var.syncer.runner_repository
    GITHUB_API_URL    = var.github_api_url
  }, local.credentials_env)

  statements = concat(
    [
      {
        sid        = "ListBucket"
        actions    = ["s3:ListBucket"]
        resources  = [local.bucket.arn]
        conditions = []
      },
      {
        sid        = "WriteArchives"
        actions    = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        resources  = ["${local.bucket.arn}/actions-runner-*"]
        conditions = []
      },
      {
        sid        = "EncryptArchives"
        actions    = ["kms:GenerateDataKey", "kms:Decrypt"]
        resources  = [var.deployment.kms_key_arn]
        conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"] }]
      },
    ],
    length(local.credential_arns) == 0 ? [] : [{
      sid        = "ReadCredentials"
      actions    = ["ssm:GetParameter"]
      resources  = local.credential_arns
      conditions = []
    }],
    var.syncer.credentials != "app" ? [] : [{
      sid        = "DecryptAppCredentials"
      actions    = ["kms:Decrypt"]
      resources  = [var.app_credentials.kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] }]
    }],
  )
}

module "function" {
  source = "../function"

  name              = "syncer"
  description       = "copies actions/runner releases into the dist bucket"
  deployment        = var.deployment
  environment       = local.environment
  policy_statements = local.statements
  schedule          = { expression = var.syncer.schedule, timezone = "UTC" }
}

# Runners launched before the first scheduled pass would find no archive to download. The
# invocation reruns whenever the function's code or settings change.
resource "aws_lambda_invocation" "after_deploy" {
  count         = var.syncer.invoke_after_deploy ? 1 : 0
  function_name = module.function.function_name
  input         = jsonencode({ source = "ghr.deploy" })
  triggers = {
    code        = module.function.code_id
    environment = sha256(jsonencode(module.function.environment))
  }
}
