# The runner instances' role. A runner reads and deletes only its own token: the token
# parameter is tagged ghr:instance-id=<instance id> by the launcher, and an instance-profile
# session carries the instance's ARN in ec2:SourceInstanceARN, so the statement requires the
# parameter's tag to be the instance id that ends the caller's instance ARN. The Resource
# element keeps the grant to this deployment's token paths as a second fence. The same key and
# tag serve DeleteParameter, so a job that steals another instance's id still cannot read or
# delete that instance's token.
#
# A runner must never read the GitHub App's credentials (a job could take the App over). Explicit
# denies in the role's own policy override any allow an operator attaches later (e.g.
# AmazonSSMManagedInstanceCore, which allows ssm:GetParameter on everything): no reading the App
# parameters, and no decrypting anything whose SSM encryption context names them, whichever key
# encrypts them (aws/ssm included). The App key's policy denies this role too (modules/secrets).

locals {
  app_parameter_path_arn = "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${local.prefix}/app"
  # The App parameters wherever they live, and everything under /<prefix>/app.
  app_parameter_deny_arns = distinct(concat(
    [local.app_parameter_path_arn, "${local.app_parameter_path_arn}/*"],
    values(var.app_credentials.parameter_arns),
    local.additional_app_arns,
  ))
  cloudwatch_config_parameters = distinct(compact(values(local.cloudwatch_config_parameter)))
}

resource "aws_iam_role" "runner" {
  name                 = "${local.prefix}-runner"
  path                 = var.deployment.role_path
  permissions_boundary = var.deployment.role_permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })
  tags = local.tags
}

resource "aws_iam_instance_profile" "runner" {
  name = "${local.prefix}-runner"
  path = var.deployment.role_path
  role = aws_iam_role.runner.name
  tags = local.tags
}

locals {
  runner_statements = concat(
    [
      {
        Sid      = "OwnToken"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter", "ssm:DeleteParameter"]
        Resource = local.token_path_arn
        Condition = {
          StringEquals = {
            "ec2:SourceInstanceARN" = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:instance/$${aws:ResourceTag/${local.tag_instance_id}}"
          }
        }
      },
      {
        Sid       = "DecryptTokenAndArchives"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = var.deployment.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = ["ssm.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com"] } }
      },
      {
        Sid      = "RunnerArchives"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${var.deployment.dist_bucket.arn}/actions-runner-*"
      },
      {
        Sid      = "NeverReadAppCredentials"
        Effect   = "Deny"
        Action   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"]
        Resource = local.app_parameter_deny_arns
      },
      {
        Sid       = "NeverDecryptAppCredentials"
        Effect    = "Deny"
        Action    = ["kms:Decrypt", "kms:ReEncryptFrom"]
        Resource  = "*"
        Condition = { StringLike = { "kms:EncryptionContext:PARAMETER_ARN" = local.app_parameter_deny_arns } }
      },
      {
        Sid      = "NeverUseAppKey"
        Effect   = "Deny"
        Action   = ["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"]
        Resource = var.app_credentials.kms_key_arn
      },
    ],
    length(local.cloudwatch_config_parameters) == 0 ? [] : [{
      Sid    = "CloudWatchAgentConfig"
      Effect = "Allow"
      Action = "ssm:GetParameter"
      Resource = [for p in local.cloudwatch_config_parameters :
        startswith(p, "arn:") ? p : "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(p, "/")}"
      ]
    }],
    local.runner_log_statements,
  )
  runner_policy_json = jsonencode({ Version = "2012-10-17", Statement = local.runner_statements })
}

#tfsec:ignore:aws-iam-no-policy-wildcards Token paths end in the instance id, unknown until launch; the ghr:instance-id tag condition ties each token to the one instance that may read it. Runner archives are the actions-runner-* objects of the dist bucket.
resource "aws_iam_role_policy" "runner" {
  name   = "runner"
  role   = aws_iam_role.runner.id
  policy = local.runner_policy_json
}

# Session Manager shells on runners without AWS's AmazonSSMManagedInstanceCore, which would also
# allow ssm:GetParameter on every parameter: the agent needs only to register the instance and
# open its message channels. None of these actions has a resource to scope to (AWS's own
# minimal Session Manager policy uses "*").
locals {
  session_manager_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "SessionManagerAgent"
      Effect = "Allow"
      Action = [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      Resource = "*"
    }]
  })
}

#tfsec:ignore:aws-iam-no-policy-wildcards The Systems Manager agent's registration and message channels have no resource-level permissions.
resource "aws_iam_role_policy" "session_manager" {
  count  = var.enable_session_manager ? 1 : 0
  name   = "session-manager"
  role   = aws_iam_role.runner.id
  policy = local.session_manager_policy_json
}

resource "aws_iam_role_policy_attachment" "runner_additional" {
  count      = length(var.runner_additional_policy_arns)
  role       = aws_iam_role.runner.name
  policy_arn = var.runner_additional_policy_arns[count.index]
}
