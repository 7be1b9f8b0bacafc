output "runner_configs_environment" {
  description = "RUNNER_CONFIGS or RUNNER_CONFIGS_PARAMETER, as every function's environment carries it."
  value       = local.runner_configs_env
}

output "runner_configs_json" {
  description = "The rendered runner-configs document."
  value       = local.runner_configs_json
}

output "runner_configs_parameter_arn" {
  description = "ARN of the parameter holding the runner configs, or null when they are inline."
  value       = local.configs_in_parameter ? local.configs_parameter_arn : null
}

output "build_queues" {
  description = "Per runner config: build queue url and arn, and its dead-letter queue's arn."
  value = {
    for k, q in aws_sqs_queue.build : k => {
      url     = q.url
      arn     = q.arn
      dlq_arn = aws_sqs_queue.build_dlq[k].arn
    }
  }
}

output "lifecycle_queue" {
  description = "The lifecycle queue (url, arn, and its dead-letter queue's dlq_arn), or null when no config is ephemeral."
  value       = local.any_ephemeral ? { url = aws_sqs_queue.lifecycle[0].url, arn = aws_sqs_queue.lifecycle[0].arn, dlq_arn = aws_sqs_queue.lifecycle_dlq[0].arn } : null
}

output "launch_templates" {
  description = "Per runner config: launch template id, name and the KMS key of its volumes."
  value = { for k, lt in aws_launch_template.runner : k => {
    id                 = lt.id
    name               = lt.name
    volume_kms_key_arn = one(lt.block_device_mappings[0].ebs[*].kms_key_id)
  } }
}

output "volume_kms_key" {
  description = "The key encrypting runner volumes: arn, and whether it is customer-managed (the launching roles then hold EC2's use of it)."
  value       = { arn = local.volume_key_arn, customer_managed = local.volume_key_customer_managed }
}

output "functions" {
  description = "Deployed functions by short name (scale-up, scale-down, cleanup, pool, spot-interruption): name, arn, role_arn, policy_json."
  value = {
    for k, f in merge(
      { scale-up = module.scale_up, scale-down = module.scale_down },
      local.any_ephemeral ? { cleanup = module.cleanup[0] } : {},
      local.any_pool ? { pool = module.pool[0] } : {},
      local.any_spot ? { spot-interruption = module.spot_interruption[0] } : {},
    ) : k => f.summary
  }
}

output "runner_role_arn" {
  description = "ARN of the runner instances' role (apart from runner_role, whose policy depends on the App key that denies this role)."
  value       = aws_iam_role.runner.arn
}

output "runner_role" {
  description = "The runner instances' role (name, arn, policy_json) and instance profile arn."
  value = {
    name                 = aws_iam_role.runner.name
    arn                  = aws_iam_role.runner.arn
    instance_profile_arn = aws_iam_instance_profile.runner.arn
    policy_json          = local.runner_policy_json
    # Session Manager's policy, when enable_session_manager is on.
    session_manager_policy_json = var.enable_session_manager ? local.session_manager_policy_json : null
  }
}

output "security_group_id" {
  description = "The runners' default security group, or null when every config names its own."
  value       = one(aws_security_group.runner[*].id)
}
