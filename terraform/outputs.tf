output "webhook_url" {
  description = "Webhook URL to set in the GitHub App (events: Workflow job)."
  value       = module.webhook.webhook_url
}

output "webhook_secret_parameter" {
  description = "SSM parameter holding the webhook secret."
  value       = module.secrets.app_credentials.parameters.webhook_secret
}

output "app_parameters" {
  description = "SSM parameters holding the App id and key."
  value       = { id = module.secrets.app_credentials.parameters.id, key = module.secrets.app_credentials.parameters.key }
}

output "kms_key_arn" {
  description = "KMS key of the deployment's runner tokens, bucket and logs (and runner volumes with runner_volume_kms_key = \"deployment\"); App credentials have their own key (kms_keys.app)."
  value       = module.secrets.kms_key_arn
}

output "build_queues" {
  description = "Per runner config: build queue url and arn, and its dead-letter queue's arn."
  value       = module.runners.build_queues
}

output "lifecycle_queue" {
  description = "Lifecycle queue (url, arn); null when no runner config is ephemeral."
  value       = module.runners.lifecycle_queue
}

output "function_names" {
  description = "Function names by short name (webhook, scale-up, scale-down, cleanup, pool, redeliver, syncer)."
  value = merge(
    { for k, f in module.webhook.functions : k => f.name },
    { for k, f in module.runners.functions : k => f.name },
    { syncer = module.syncer.function.name },
  )
}

output "runner_role" {
  description = "Runner instances' role (name, arn) and instance profile arn."
  value       = { name = module.runners.runner_role.name, arn = module.runners.runner_role.arn, instance_profile_arn = module.runners.runner_role.instance_profile_arn }
}

output "iam_policies" {
  description = "Policy document of every role the module creates, by short name (the functions' names and runner), for review."
  value = merge(
    { for k, f in module.webhook.functions : k => f.policy_json },
    { for k, f in module.runners.functions : k => f.policy_json },
    { syncer = module.syncer.function.policy_json, runner = module.runners.runner_role.policy_json },
    var.enable_session_manager ? { runner-session-manager = module.runners.runner_role.session_manager_policy_json } : {},
  )
}

output "kms_keys" {
  description = "The deployment's keys: `deployment` (tokens, logs, dist bucket) and `app` (App credentials) with the key policy of a key the module creates (null for yours), and `runner_volumes` (arn, customer_managed)."
  value = {
    deployment     = { arn = module.secrets.kms_key_arn, policy_json = module.secrets.key_policies.deployment }
    app            = { arn = module.secrets.app_kms_key_arn, policy_json = module.secrets.key_policies.app }
    runner_volumes = module.runners.volume_kms_key
  }
}

output "launch_templates" {
  description = "Per runner config: launch template id, name and the KMS key of its volumes."
  value       = module.runners.launch_templates
}

output "dist_bucket" {
  description = "Bucket of runner archives (name, arn)."
  value       = local.deployment.dist_bucket
}

output "runner_configs_parameter" {
  description = "SSM parameter holding the runner configs when they are too large to travel inline (RUNNER_CONFIGS_PARAMETER); null when inline."
  value       = lookup(module.runners.runner_configs_environment, "RUNNER_CONFIGS_PARAMETER", null)
}

output "runner_configs_json" {
  description = "The runner-configs document the functions read (RUNNER_CONFIGS)."
  value       = module.runners.runner_configs_json
}

output "github_pacing" {
  description = "GitHub secondary-limit pacing: per function that calls GitHub, the containers it can run at once and the GITHUB_POINTS_PER_MINUTE of each; the most all of them may spend on one endpoint in a minute; and over_budget when that exceeds github_points_per_minute (each container needs at least 10: lower scale_up.maximum_concurrency or cap the function's reserved_concurrency)."
  value = {
    functions   = local.github_pacing
    spend       = local.github_spend
    over_budget = local.github_spend > var.github_points_per_minute
  }
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (created, or alarms.sns_topic_arn); null when alarms are off. Subscribe on-call to it."
  value       = module.alarms.sns_topic_arn
}

output "alarm_names" {
  description = "CloudWatch alarms created, by kind."
  value       = module.alarms.alarm_names
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the deployment, or null."
  value       = module.alarms.dashboard_name
}
