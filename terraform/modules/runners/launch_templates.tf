# One launch template per runner config. CreateFleet launches "$Default", so every change
# becomes the default version at once.

# Runner volumes are encrypted with the AWS-managed aws/ebs key by default: its key policy lets
# every principal of the account use it through EC2, so launches work with no KMS grant. With
# a customer-managed key the launching principals need EC2's use of the key (functions.tf) and
# EC2 Fleet's and Spot's service-linked roles need the key policy (modules/secrets); without
# them AWS starts the instance and terminates it at once (Client.InternalError).
# DescribeKey on the alias creates the AWS-managed key in an account that never used it.
data "aws_kms_key" "aws_ebs" {
  count  = var.runner_volume_kms_key == "aws/ebs" ? 1 : 0
  key_id = "alias/aws/ebs"
}

locals {
  volume_key_arn = (
    var.runner_volume_kms_key == "aws/ebs" ? data.aws_kms_key.aws_ebs[0].arn :
    var.runner_volume_kms_key == "deployment" ? var.deployment.kms_key_arn : var.runner_volume_kms_key
  )
  volume_key_customer_managed = var.runner_volume_kms_key != "aws/ebs"

  ami_architecture = { x64 = "x86_64", arm64 = "arm64" }
  # Amazon Linux 2023, the image the bootstrap is tested against, unless a config names one.
  default_ami_name    = { x64 = "al2023-ami-2023.*-kernel-*-x86_64", arm64 = "al2023-ami-2023.*-kernel-*-arm64" }
  need_security_group = anytrue([for c in values(var.runner_configs) : length(c.security_group_ids) == 0])
  # shutdown_delay_seconds: a finished or failed boot waits this long before powering off, so
  # the CloudWatch agent ships the last lines (logs.tf).
  shutdown_delay_seconds = 10
}

data "aws_ami" "runner" {
  for_each    = var.runner_configs
  most_recent = true
  owners      = each.value.ami.id == null ? each.value.ami.owners : null

  dynamic "filter" {
    for_each = each.value.ami.id == null ? [] : [each.value.ami.id]
    content {
      name   = "image-id"
      values = [filter.value]
    }
  }
  dynamic "filter" {
    for_each = each.value.ami.id == null ? [coalesce(each.value.ami.name, local.default_ami_name[each.value.architecture])] : []
    content {
      name   = "name"
      values = [filter.value]
    }
  }
  filter {
    name   = "architecture"
    values = [local.ami_architecture[each.value.architecture]]
  }
}

resource "aws_security_group" "runner" {
  count       = local.need_security_group ? 1 : 0
  name        = "${local.prefix}-runner"
  description = "ghr ${local.prefix} runners: no inbound traffic, outbound to GitHub and the job's needs"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${local.prefix}-runner" })
}

#tfsec:ignore:aws-ec2-no-public-egress-sgr Runners must reach GitHub, its artifact and cache storage and whatever a job downloads; restrict egress with your own security_group_ids.
resource "aws_vpc_security_group_egress_rule" "runner_all" {
  count             = local.need_security_group ? 1 : 0
  security_group_id = aws_security_group.runner[0].id
  description       = "Any outbound traffic: GitHub, package registries, the dist bucket"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

resource "aws_launch_template" "runner" {
  for_each               = var.runner_configs
  name                   = "${local.prefix}-${each.key}"
  description            = "ghr ${local.prefix} runner config ${each.key}"
  image_id               = data.aws_ami.runner[each.key].id
  update_default_version = true
  # An ephemeral runner powers off after its job; the instance must go with it.
  instance_initiated_shutdown_behavior = "terminate"
  vpc_security_group_ids               = length(each.value.security_group_ids) > 0 ? each.value.security_group_ids : [aws_security_group.runner[0].id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.runner.arn
  }

  # IMDSv2 only; tags readable from IMDS (the bootstrap learns its config and environment from
  # them); hop limit 1 keeps containers in jobs away from the instance's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = each.value.metadata_hop_limit
    instance_metadata_tags      = "enabled"
  }

  block_device_mappings {
    device_name = data.aws_ami.runner[each.key].root_device_name
    ebs {
      volume_size           = each.value.root_volume_size
      volume_type           = each.value.root_volume_type
      encrypted             = true
      kms_key_id            = local.volume_key_arn
      delete_on_termination = true
    }
  }

  # The rendered script is ~15 KiB, over EC2's 16 KiB limit once hooks are added; cloud-init
  # unpacks gzip user data (see the template's header).
  user_data = base64gzip(templatefile("${path.module}/templates/user-data.sh.tftpl", {
    metadata_url                = "http://169.254.169.254"
    environment                 = local.prefix
    runner_config               = each.key
    dist_bucket                 = var.deployment.dist_bucket.name
    runner_user                 = each.value.runner_user
    runner_dir                  = each.value.runner_dir
    token_wait_timeout_seconds  = each.value.token_wait_timeout_seconds
    shutdown_delay_seconds      = local.shutdown_delay_seconds
    cloudwatch_config_parameter = local.cloudwatch_config_parameter[each.key]
    install_software            = join(" ", each.value.install_software)
    pre_install_script          = each.value.pre_install_script
    post_install_script         = each.value.post_install_script
    start_runner_script         = file("${path.module}/templates/start-runner.sh")
  }))

  tag_specifications {
    resource_type = "instance"
    tags = merge(local.tags, {
      Name                      = "${local.prefix}-${each.key}"
      (local.tag_environment)   = local.prefix
      (local.tag_runner_config) = each.key
    })
  }

  tag_specifications {
    resource_type = "volume"
    tags = merge(local.tags, {
      Name                      = "${local.prefix}-${each.key}"
      (local.tag_environment)   = local.prefix
      (local.tag_runner_config) = each.key
    })
  }

  tags = local.tags
}
