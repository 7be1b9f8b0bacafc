# ghr: GitHub Actions self-hosted runners on AWS. The module is the single source of truth for
# every function's environment (docs/configuration.md): each submodule renders the variables
# its functions read, from the inputs below.

locals {
  runner_name_prefix = coalesce(var.runner_name_prefix, "${var.prefix}-")
  dist_dir           = coalesce(var.lambda_dist_dir, "${path.module}/../dist")

  # Defaults per function. Scheduled passes that must not overlap reserve a concurrency of 1;
  # scale-down paces GitHub DELETEs and needs minutes; the syncer streams ~200 MB archives.
  function_defaults = {
    webhook      = { memory_size = 256, timeout = 10, reserved_concurrency = -1 }
    "scale-up"   = { memory_size = 256, timeout = 60, reserved_concurrency = -1 }
    "scale-down" = { memory_size = 256, timeout = 300, reserved_concurrency = 1 }
    cleanup      = { memory_size = 256, timeout = 60, reserved_concurrency = -1 }
    pool         = { memory_size = 256, timeout = 120, reserved_concurrency = 1 }
    redeliver    = { memory_size = 256, timeout = 120, reserved_concurrency = 1 }
    syncer       = { memory_size = 512, timeout = 900, reserved_concurrency = 1 }
    # One event per interruption or stop: a describe, an SSM write and a DELETE. One container
    # (EventBridge's asynchronous invocations wait out throttling for hours) keeps its GitHub
    # share whole; events take about a second each.
    "spot-interruption" = { memory_size = 256, timeout = 30, reserved_concurrency = 1 }
  }
  functions = {
    for name, d in local.function_defaults : name => {
      zip_path = lookup(var.lambda_zip_paths, name, "${local.dist_dir}/${name}.zip")
      s3 = var.lambda_s3 == null ? null : {
        bucket  = var.lambda_s3.bucket
        key     = lookup(var.lambda_s3.keys, name, "${var.lambda_s3.key_prefix}${name}.zip")
        version = lookup(var.lambda_s3.object_versions, name, null)
      }
      memory_size = coalesce(try(var.function_settings[name].memory_size, null), d.memory_size)
      timeout     = coalesce(try(var.function_settings[name].timeout, null), d.timeout)
      # -1 (unreserved) becomes null for the function module.
      reserved_concurrency = (
        coalesce(try(var.function_settings[name].reserved_concurrency, null), d.reserved_concurrency) < 0 ? null :
        coalesce(try(var.function_settings[name].reserved_concurrency, null), d.reserved_concurrency)
      )
    }
  }

  missing_zips = var.lambda_s3 != null ? [] : sort([for name, f in local.functions : f.zip_path if !fileexists(f.zip_path)])

  runner_configs = {
    for k, c in var.runner_configs : k => merge(c, {
      subnet_ids = length(c.subnet_ids) > 0 ? c.subnet_ids : var.subnet_ids
    })
  }

  # GitHub secondary-limit budget (docs/decisions.md). Pacing lives in each container, so the
  # deployment's budget is split: each function that calls GitHub gets a weighted share, and
  # each of its containers that can run at once an equal part of that (GITHUB_POINTS_PER_MINUTE).
  # Scale-up is the critical path; the scheduled passes and clean-up get small shares.
  github_weights = {
    "scale-up"   = 13
    "scale-down" = 2
    cleanup      = anytrue([for c in values(var.runner_configs) : c.ephemeral]) ? 2 : 0
    pool         = anytrue([for c in values(var.runner_configs) : c.pool_size > 0]) ? 1 : 0
    syncer       = var.syncer.credentials == "app" ? 1 : 0
    # A runner DELETE per spot interruption (and per stop after one).
    "spot-interruption" = anytrue([for c in values(var.runner_configs) : c.capacity_type == "spot"]) ? 1 : 0
  }
  # Redeliver calls only the App's hook-delivery endpoints (internal/redeliver/github.go), which
  # no other function calls: it shares the budget with nobody and divides it only by its own
  # containers. Should it ever call another endpoint, it moves into github_weights.
  github_alone = { redeliver = var.redeliver.enabled }
  # Containers at once: scale-up runs up to maximum_concurrency per build queue — counted for
  # one queue, as bursts rarely hit every config at once (docs/decisions.md) — clean-up up to
  # cleanup_concurrency; reserved concurrency caps any function. An unreserved scheduled pass
  # may overlap the next one.
  # cleanup_concurrency is Lambda's smallest SQS maximum_concurrency: a finished instance shuts
  # itself down anyway (cleanup only hastens that), and fewer containers each get a usable part.
  cleanup_concurrency      = 2
  unreserved_scheduled_max = 2
  github_containers = {
    for fn in concat(keys(local.github_weights), keys(local.github_alone)) : fn => max(1, min(
      fn == "scale-up" ? var.scale_up.maximum_concurrency :
      fn == "cleanup" ? local.cleanup_concurrency : local.unreserved_scheduled_max,
      coalesce(local.functions[fn].reserved_concurrency, 1000000),
    ))
  }
  github_share = merge(
    { for fn, w in local.github_weights : fn => floor(var.github_points_per_minute * w / sum(values(local.github_weights)) / local.github_containers[fn]) },
    { for fn in keys(local.github_alone) : fn => floor(var.github_points_per_minute / local.github_containers[fn]) },
  )
  # internal/config refuses less than 10 points (one mutation of burst, one earned a minute).
  # When that floor lifts the parts over the budget, output github_pacing says so.
  github_points_per_minute = { for fn, p in local.github_share : fn => max(p, 10) }
  github_pacing = {
    for fn, p in local.github_points_per_minute : fn => { containers = local.github_containers[fn], points_per_minute = p }
    if lookup(local.github_weights, fn, 0) > 0 || lookup(local.github_alone, fn, false)
  }
  # The other Apps (github_apps): each has its own budget, split over the same functions and
  # containers by the same weights, so each App's containers together stay within that App's
  # budget. Redeliver and the syncer use the webhook App alone (its hook deliveries; one
  # token for a public release), so only the functions that call owners' endpoints get them.
  github_apps_count   = nonsensitive(length(var.github_apps))
  github_apps_budgets = [for i in range(local.github_apps_count) : nonsensitive(coalesce(var.github_apps[i].points_per_minute, var.github_points_per_minute))]
  github_apps_points = [for budget in local.github_apps_budgets : {
    for fn, w in local.github_weights : fn => max(10, floor(budget * w / sum(values(local.github_weights)) / local.github_containers[fn]))
  }]
  # Where each App's id and key are read: App n (2, 3...) given as values is stored at
  # /<prefix>/app/<n>/{id,key} (modules/secrets, the same rule); else the parameter named.
  github_apps_parameters = [for i in range(local.github_apps_count) : {
    for k in ["id", "key"] : k => nonsensitive(var.github_apps[i][k] != null) ? "/${var.prefix}/app/${i + 2}/${k}" : nonsensitive(var.github_apps[i]["${k}_parameter"])
  }]
  github_apps_env = {
    for fn in keys(local.github_weights) : fn => jsonencode([
      for i, p in local.github_apps_parameters : { id_parameter = p.id, key_parameter = p.key, points_per_minute = local.github_apps_points[i][fn] }
    ]) if local.github_apps_count > 0 && fn != "syncer"
  }
  # The most all containers may spend on one endpoint: the shared endpoints' sum, or what a
  # function alone on its endpoints spends.
  github_spend = max(concat(
    [sum([for fn, p in local.github_pacing : p.containers * p.points_per_minute if contains(keys(local.github_weights), fn)])],
    [for fn, p in local.github_pacing : p.containers * p.points_per_minute if contains(keys(local.github_alone), fn)],
  )...)
}

# What every function shares, passed once to each submodule as `deployment` and from there
# to the function module: names and tags, the deployment key (code objects, logs and, in the
# functions, tokens), logging, architecture, tracing, network, IAM role path and boundary, the
# bucket the code is uploaded to, the environment common to all, and per function its code,
# sizing and the environment the root computes for it (its part of the GitHub budget).
locals {
  deployment = {
    prefix                    = var.prefix
    tags                      = var.tags
    kms_key_arn               = module.secrets.kms_key_arn
    encrypt_log_groups        = var.encrypt_log_groups
    log_retention_days        = var.log_retention_days
    lambda_architecture       = var.lambda_architecture
    tracing_enabled           = var.tracing_enabled
    lambda_vpc                = var.lambda_vpc
    role_path                 = var.role_path
    role_permissions_boundary = var.role_permissions_boundary
    # Named through its encryption configuration, so nothing is written to the bucket (code,
    # the syncer's first archives) before objects are encrypted with the deployment key.
    dist_bucket = { name = aws_s3_bucket_server_side_encryption_configuration.dist.bucket, arn = aws_s3_bucket.dist.arn }
    environment = {
      PREFIX             = var.prefix
      RUNNER_NAME_PREFIX = local.runner_name_prefix
      LOG_LEVEL          = var.log_level
    }
    functions = {
      for name, f in local.functions : name => merge(f, {
        environment = merge(
          contains(keys(local.github_pacing), name) ? { GITHUB_POINTS_PER_MINUTE = tostring(local.github_points_per_minute[name]) } : {},
          contains(keys(local.github_pacing), name) && contains(keys(local.github_apps_env), name) ? { GITHUB_APPS = local.github_apps_env[name] } : {},
        )
      })
    }
  }
}

module "secrets" {
  source = "./modules/secrets"

  prefix                          = var.prefix
  kms_key_arn                     = var.kms_key_arn
  app_kms_key_arn                 = var.app_kms_key_arn
  runner_role_arn                 = module.runners.runner_role_arn
  volume_key_service_linked_roles = var.runner_volume_kms_key == "deployment"
  kms_deletion_window_days        = var.kms_deletion_window_days
  github_app                      = var.github_app
  github_app_parameters           = var.github_app_parameters
  github_apps                     = [for a in var.github_apps : { id = a.id, key = a.key, id_parameter = a.id_parameter, key_parameter = a.key_parameter }]
  tags                            = var.tags
}

module "syncer" {
  source = "./modules/syncer"

  deployment      = local.deployment
  app_credentials = module.secrets.app_credentials
  github_api_url  = var.github_api_url
  syncer          = var.syncer
}

module "runners" {
  source = "./modules/runners"

  deployment                      = local.deployment
  app_credentials                 = module.secrets.app_credentials
  github_api_url                  = var.github_api_url
  runner_configs                  = local.runner_configs
  vpc_id                          = var.vpc_id
  runner_configs_storage          = var.runner_configs_storage
  runner_configs_inline_max_bytes = var.runner_configs_inline_max_bytes
  runner_volume_kms_key           = var.runner_volume_kms_key
  enable_session_manager          = var.enable_session_manager
  runner_logs                     = var.runner_logs
  runner_additional_policy_arns   = var.runner_additional_policy_arns
  cleanup_concurrency             = local.cleanup_concurrency
  scale_up                        = var.scale_up
  spot_circuit_breaker            = var.spot_circuit_breaker
  build_queue                     = var.build_queue
  scale_down_schedule             = var.scale_down_schedule
  pool_schedule                   = var.pool_schedule
}

module "webhook" {
  source = "./modules/webhook"

  deployment                   = local.deployment
  app_credentials              = module.secrets.app_credentials
  github_api_url               = var.github_api_url
  runner_configs_environment   = module.runners.runner_configs_environment
  runner_configs_parameter_arn = module.runners.runner_configs_parameter_arn
  build_queue_arns             = [for q in values(module.runners.build_queues) : q.arn]
  lifecycle_queue              = module.runners.lifecycle_queue
  repository_allowlist         = var.repository_allowlist
  webhook_source_ranges        = var.webhook_source_ranges
  webhook_max_body_bytes       = var.webhook_max_body_bytes
  redeliver                    = var.redeliver
  api_throttling               = var.api_throttling
}

# One clear error at plan, instead of one "no file exists" per function, when the zips are not
# where the module looks for them (e.g. a module sourced from git has no dist/).
resource "terraform_data" "function_zips" {
  input = var.lambda_s3 == null ? "local" : "s3"
  lifecycle {
    precondition {
      condition     = length(local.missing_zips) == 0
      error_message = <<-EOT
        ghr: function zips not found: ${join(", ", local.missing_zips)}.
        Get them in one of three ways, then plan again:
          - a release (no Go needed): ghr lambdas fetch --version X.Y.Z --arch ${var.lambda_architecture == "x86_64" ? "amd64" : "arm64"} -o ./ghr-dist, and set lambda_dist_dir = "./ghr-dist";
          - from source: make dist ARCH=${var.lambda_architecture == "x86_64" ? "amd64" : "arm64"} in a clone of ghr, and point lambda_dist_dir at its dist/;
          - from S3: upload the zips and set lambda_s3 = { bucket = "...", object_versions = {...} }.
        See docs/getting-started.md.
      EOT
    }
  }
}

module "alarms" {
  source = "./modules/alarms"

  prefix = var.prefix
  alarms = var.alarms
  function_names = merge(
    { for k, f in module.webhook.functions : k => f.name },
    { for k, f in module.runners.functions : k => f.name },
  )
  build_queues = { for k, q in module.runners.build_queues : k => q.arn }
  dead_letter_queues = merge(
    { for k, q in module.runners.build_queues : k => q.dlq_arn },
    module.runners.lifecycle_queue == null ? {} : { lifecycle = module.runners.lifecycle_queue.dlq_arn },
  )
  api_id = module.webhook.api_id
  tags   = var.tags
}
