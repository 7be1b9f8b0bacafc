# The deployment's KMS keys, checked on a mock provider: every principal that launches runners
# can use the key of their volumes (else AWS terminates each instance at launch with
# Client.InternalError), and no policy an operator may attach lets a runner read the App
# credentials.

mock_provider "aws" {
  source = "./tests/mocks"
}

# The module's two keys must differ on the mock, as they do on AWS.
override_resource {
  target = module.secrets.aws_kms_key.app
  values = {
    arn    = "arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-0000-0000-0000-00000000aaaa"
    key_id = "aaaaaaaa-0000-0000-0000-00000000aaaa"
  }
}

variables {
  prefix     = "ghr-test"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0"]
  github_app = {
    id             = "123456"
    key            = "fixture-app-key"
    webhook_secret = "0123456789abcdef0123"
  }
  lambda_zip_paths = {
    webhook             = "tests/fixtures/function.zip"
    "scale-up"          = "tests/fixtures/function.zip"
    "scale-down"        = "tests/fixtures/function.zip"
    cleanup             = "tests/fixtures/function.zip"
    pool                = "tests/fixtures/function.zip"
    redeliver           = "tests/fixtures/function.zip"
    syncer              = "tests/fixtures/function.zip"
    "spot-interruption" = "tests/fixtures/function.zip"
  }
  # Both launching functions exist: scale-up, and pool for the pooled config.
  runner_configs = {
    small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] }
    warm  = { labels = ["self-hosted", "linux", "arm64"], architecture = "arm64", instance_types = ["m7g.large"], ephemeral = false, pool_size = 1, pool_owner = "octo-org" }
  }
}

# The condition repeated in each volume run: every role that calls CreateFleet may, through EC2,
# do what EBS encryption asks of the launching principal with the volumes' key, unless that key
# is the AWS-managed aws/ebs key (whose key policy allows every principal of the account via
# EC2). A role missing one action fails the run.

run "volume_key_defaults_to_aws_managed" {
  command = apply

  assert {
    condition     = output.kms_keys.runner_volumes.arn == "arn:aws:kms:eu-west-1:123456789012:key/eeeeeeee-0000-0000-0000-00000000eb5e" && !output.kms_keys.runner_volumes.customer_managed
    error_message = "runner volumes default to the AWS-managed aws/ebs key, which works with no grant"
  }
  assert {
    condition     = alltrue([for lt in values(output.launch_templates) : lt.volume_kms_key_arn == output.kms_keys.runner_volumes.arn])
    error_message = "every launch template encrypts its volumes with the volume key"
  }
  assert {
    condition     = length([for p in values(output.iam_policies) : p if anytrue([for s in jsondecode(p).Statement : contains(flatten([s.Action]), "ec2:CreateFleet")])]) == 2
    error_message = "scale-up and pool launch instances"
  }
  assert {
    condition = !output.kms_keys.runner_volumes.customer_managed || alltrue(flatten([
      for p in values(output.iam_policies) : [
        for a in ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"] :
        anytrue([for s in jsondecode(p).Statement :
          s.Effect == "Allow" && contains(flatten([s.Action]), a) && contains(flatten([s.Resource]), output.kms_keys.runner_volumes.arn) &&
          (!can(s.Condition.StringEquals["kms:ViaService"]) || contains(try(s.Condition.StringEquals["kms:ViaService"], []), "ec2.eu-west-1.amazonaws.com"))
        ])
      ] if anytrue([for s in jsondecode(p).Statement : contains(flatten([s.Action]), "ec2:CreateFleet")])
    ]))
    error_message = "a launching role cannot use the runner volumes' customer-managed key through EC2"
  }
  assert {
    condition     = !strcontains(output.kms_keys.deployment.policy_json, "AWSServiceRoleForEC2Spot")
    error_message = "the deployment key admits EC2's service-linked roles only when it encrypts volumes"
  }
}

run "volume_key_deployment" {
  command = apply
  variables {
    runner_volume_kms_key = "deployment"
  }

  assert {
    condition     = output.kms_keys.runner_volumes.arn == output.kms_keys.deployment.arn && output.kms_keys.runner_volumes.customer_managed
    error_message = "runner_volume_kms_key = deployment encrypts volumes with the deployment key"
  }
  assert {
    condition     = alltrue([for lt in values(output.launch_templates) : lt.volume_kms_key_arn == output.kms_keys.deployment.arn])
    error_message = "every launch template encrypts its volumes with the deployment key"
  }
  assert {
    condition = !output.kms_keys.runner_volumes.customer_managed || alltrue(flatten([
      for p in values(output.iam_policies) : [
        for a in ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"] :
        anytrue([for s in jsondecode(p).Statement :
          s.Effect == "Allow" && contains(flatten([s.Action]), a) && contains(flatten([s.Resource]), output.kms_keys.runner_volumes.arn) &&
          (!can(s.Condition.StringEquals["kms:ViaService"]) || contains(try(s.Condition.StringEquals["kms:ViaService"], []), "ec2.eu-west-1.amazonaws.com"))
        ])
      ] if anytrue([for s in jsondecode(p).Statement : contains(flatten([s.Action]), "ec2:CreateFleet")])
    ]))
    error_message = "a launching role cannot use the runner volumes' customer-managed key through EC2"
  }
  assert {
    condition = alltrue(flatten([for p in values(output.iam_policies) : [for s in jsondecode(p).Statement :
      try(s.Condition.Bool["kms:GrantIsForAWSResource"], []) == ["true"] if s.Effect == "Allow" && contains(flatten([s.Action]), "kms:CreateGrant")
    ]]))
    error_message = "grants on the volume key are only for AWS resources"
  }
  assert {
    condition = alltrue([for a in ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"] :
      anytrue([for s in jsondecode(output.kms_keys.deployment.policy_json).Statement :
        s.Effect == "Allow" && contains(flatten([s.Action]), a) && alltrue([for r in ["ec2fleet.amazonaws.com/AWSServiceRoleForEC2Fleet", "spot.amazonaws.com/AWSServiceRoleForEC2Spot"] :
          contains(try(s.Condition.ArnEquals["aws:PrincipalArn"], []), "arn:aws:iam::123456789012:role/aws-service-role/${r}")
        ])
      ])
    ])
    error_message = "the deployment key's policy lets EC2 Fleet's and Spot's service-linked roles use it for volumes"
  }
}

run "volume_key_of_yours" {
  command = apply
  variables {
    runner_volume_kms_key = "arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-0000-0000-0000-00000000bbbb"
  }

  assert {
    condition     = alltrue([for lt in values(output.launch_templates) : lt.volume_kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-0000-0000-0000-00000000bbbb"])
    error_message = "every launch template encrypts its volumes with the given key"
  }
  assert {
    condition = !output.kms_keys.runner_volumes.customer_managed || alltrue(flatten([
      for p in values(output.iam_policies) : [
        for a in ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"] :
        anytrue([for s in jsondecode(p).Statement :
          s.Effect == "Allow" && contains(flatten([s.Action]), a) && contains(flatten([s.Resource]), output.kms_keys.runner_volumes.arn) &&
          (!can(s.Condition.StringEquals["kms:ViaService"]) || contains(try(s.Condition.StringEquals["kms:ViaService"], []), "ec2.eu-west-1.amazonaws.com"))
        ])
      ] if anytrue([for s in jsondecode(p).Statement : contains(flatten([s.Action]), "ec2:CreateFleet")])
    ]))
    error_message = "a launching role cannot use the runner volumes' customer-managed key through EC2"
  }
}

# A job runs on the runner role. With Session Manager on and AWS's AmazonSSMManagedInstanceCore
# attached as well (it allows ssm:GetParameter on every parameter), the role still cannot read
# or decrypt /<prefix>/app/*: explicit denies in its own policy and in the App key's policy
# override any allow.
run "runners_never_decrypt_app_credentials" {
  command = apply
  variables {
    enable_session_manager        = true
    runner_additional_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
  }

  assert {
    condition     = output.kms_keys.app.arn != output.kms_keys.deployment.arn
    error_message = "the App credentials have their own key"
  }
  assert {
    condition = alltrue([for s in jsondecode(output.iam_policies["runner-session-manager"]).Statement : alltrue([for a in flatten([s.Action]) :
      !startswith(a, "ssm:GetParameter") && !startswith(a, "kms:")
    ])])
    error_message = "the Session Manager policy grants no ssm:GetParameter* and no KMS use"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.iam_policies["runner"]).Statement :
      s.Effect == "Deny" && length(setsubtract(["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"], flatten([s.Action]))) == 0 &&
      length(setsubtract(["arn:aws:ssm:eu-west-1:123456789012:parameter/ghr-test/app", "arn:aws:ssm:eu-west-1:123456789012:parameter/ghr-test/app/*"], flatten([s.Resource]))) == 0
    ])
    error_message = "the runner policy denies reading /ghr-test/app and everything under it"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.iam_policies["runner"]).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "kms:Decrypt") && s.Resource == "*" &&
      contains(try(s.Condition.StringLike["kms:EncryptionContext:PARAMETER_ARN"], []), "arn:aws:ssm:eu-west-1:123456789012:parameter/ghr-test/app/*")
    ])
    error_message = "the runner policy denies decrypting any App parameter whatever its key (aws/ssm included)"
  }
  assert {
    condition = !anytrue([for s in jsondecode(output.iam_policies["runner"]).Statement :
      s.Effect == "Allow" && contains(flatten([s.Resource]), output.kms_keys.app.arn)
    ])
    error_message = "the runner policy allows nothing on the App key"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.kms_keys.app.policy_json).Statement :
      s.Effect == "Deny" && s.Principal == { AWS = "*" } && length(setsubtract(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant"], flatten([s.Action]))) == 0 &&
      try(s.Condition.ArnEquals["aws:PrincipalArn"], []) == [output.runner_role.arn]
    ])
    error_message = "the App key's policy denies the runner role every use of the key material, whatever IAM allows it"
  }
  # The functions that read App credentials can still decrypt them.
  assert {
    condition = alltrue([for fn in ["webhook", "redeliver", "scale-up", "scale-down", "pool", "syncer"] : anytrue([for s in jsondecode(output.iam_policies[fn]).Statement :
      s.Effect == "Allow" && contains(flatten([s.Action]), "kms:Decrypt") && contains(flatten([s.Resource]), output.kms_keys.app.arn)
    ])])
    error_message = "every function reading App credentials may decrypt them with the App key"
  }
}
