# Inputs of the ghr module. The README's tables are generated from this file (cmd/tfdocs).

variable "prefix" {
  description = "Deployment prefix: starts every resource name, is the `ghr:environment` tag value and the root of the SSM paths (`/<prefix>/...`)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 2 to 24 lower-case letters, digits or hyphens, start with a letter and not end with a hyphen (it names buckets, queues, roles and functions)."
  }
}

variable "tags" {
  description = "Tags applied to every resource the module creates (runner instances and volumes too)."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.tags) : !startswith(k, "ghr:")])
    error_message = "tags must not use the ghr: key prefix: those tags are set by ghr itself (internal/tags)."
  }
}

variable "vpc_id" {
  description = "VPC of the runners (their default security group is created here)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets runners launch in, unless a runner config names its own."
  type        = list(string)
  default     = []
}

variable "runner_configs" {
  description = <<-EOT
    Kinds of runner, keyed by a short name (`^[a-z0-9][a-z0-9-]{0,31}$`). Each gets its own build queue and launch template and is rendered into the RUNNER_CONFIGS document (internal/config/runners.go). Fields: `labels` (job labels it takes), `match` (`exact`, `subset`, `any`), `priority` (lower first), `level` (`org` or `repo` runners), `ephemeral` (one job per instance), `runner_group`, `use_job_labels`, `architecture` (`x64`, `arm64`), `instance_types`, `capacity_type` (`spot`, `on-demand`), `allocation_strategy`, `on_demand_failover_errors`, `max_runners` (-1 unlimited), `minimum_running_minutes`, `boot_minutes`, `idle_config` (cron windows keeping idle runners), `idle_eviction`, `pool_size` and `pool_owner` (warm pool), `subnet_ids`, `security_group_ids`, `ami` (`id`, or `name` pattern and `owners`; default Amazon Linux 2023), `runner_user` (the non-root user jobs run as), `runner_dir`, `root_volume_size`, `root_volume_type`, `metadata_hop_limit`, `token_wait_timeout_seconds`, `cloudwatch_config_parameter` (your own CloudWatch agent configuration; `""` uses the deployment's when `runner_logs` is on), `install_software` (what the boot installs when the image lacks it: any of `docker` (started, runner user in the `docker` group), `git`, `jq`, `amazon-cloudwatch-agent`; default all four; `[]` for a prebuilt image), `pre_install_script`, `post_install_script`.
  EOT
  type = map(object({
    labels                    = list(string)
    match                     = optional(string, "subset")
    priority                  = optional(number, 0)
    level                     = optional(string, "org")
    ephemeral                 = optional(bool, true)
    runner_group              = optional(string, "")
    use_job_labels            = optional(bool, false)
    architecture              = optional(string, "x64")
    instance_types            = list(string)
    capacity_type             = optional(string, "spot")
    allocation_strategy       = optional(string)
    on_demand_failover_errors = optional(list(string))
    max_runners               = optional(number, 10)
    minimum_running_minutes   = optional(number, 5)
    boot_minutes              = optional(number, 5)
    idle_config = optional(list(object({
      cron       = string
      time_zone  = optional(string, "UTC")
      idle_count = number
    })), [])
    idle_eviction      = optional(string, "oldest_first")
    pool_size          = optional(number, 0)
    pool_owner         = optional(string)
    subnet_ids         = optional(list(string), [])
    security_group_ids = optional(list(string), [])
    ami = optional(object({
      id     = optional(string)
      name   = optional(string)
      owners = optional(list(string), ["amazon"])
    }), {})
    runner_user                 = optional(string, "ghr-runner")
    runner_dir                  = optional(string, "/opt/actions-runner")
    root_volume_size            = optional(number, 30)
    root_volume_type            = optional(string, "gp3")
    metadata_hop_limit          = optional(number, 1)
    token_wait_timeout_seconds  = optional(number, 300)
    cloudwatch_config_parameter = optional(string, "")
    install_software            = optional(list(string), ["docker", "git", "jq", "amazon-cloudwatch-agent"])
    pre_install_script          = optional(string, "")
    post_install_script         = optional(string, "")
  }))

  validation {
    condition     = alltrue([for c in values(var.runner_configs) : alltrue([for p in c.install_software : contains(["docker", "git", "jq", "amazon-cloudwatch-agent"], p)])])
    error_message = "runner_configs: install_software may list only docker, git, jq and amazon-cloudwatch-agent."
  }

  validation {
    condition     = length(var.runner_configs) >= 1 && length(var.runner_configs) <= 100
    error_message = "runner_configs: give 1 to 100 runner configs."
  }
  validation {
    condition     = alltrue([for k in keys(var.runner_configs) : can(regex("^[a-z0-9][a-z0-9-]{0,31}$", k))])
    error_message = "runner_configs: keys must match ^[a-z0-9][a-z0-9-]{0,31}$ (they name queues, launch templates and SSM paths)."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : length(c.labels) >= 1 && length(c.labels) <= 50 && alltrue([for l in c.labels : trimspace(l) != "" && !strcontains(l, ",")])])
    error_message = "runner_configs: labels must hold 1 to 50 non-empty labels without commas."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : contains(["exact", "subset", "any"], c.match)])
    error_message = "runner_configs: match must be exact, subset or any."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : contains(["org", "repo"], c.level)])
    error_message = "runner_configs: level must be org or repo."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : contains(["x64", "arm64"], c.architecture)])
    error_message = "runner_configs: architecture must be x64 or arm64."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : length(c.instance_types) >= 1 && alltrue([for t in c.instance_types : can(regex("^[a-z0-9-]+\\.[a-z0-9-]+$", t))])])
    error_message = "runner_configs: instance_types must name at least one instance type such as m7g.large."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : contains(["spot", "on-demand"], c.capacity_type)])
    error_message = "runner_configs: capacity_type must be spot or on-demand."
  }
  validation {
    condition = alltrue([for c in values(var.runner_configs) : c.allocation_strategy == null || contains(
      c.capacity_type == "spot" ? ["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price", "diversified"] : ["lowest-price", "prioritized"],
      coalesce(c.allocation_strategy, "-")
    )])
    error_message = "runner_configs: allocation_strategy must suit the capacity_type (spot: price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized, lowest-price, diversified; on-demand: lowest-price, prioritized)."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.max_runners >= -1 && floor(c.max_runners) == c.max_runners])
    error_message = "runner_configs: max_runners must be a whole number, -1 (unlimited) or more."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.minimum_running_minutes >= 1 && c.boot_minutes >= 1 && c.pool_size >= 0])
    error_message = "runner_configs: minimum_running_minutes and boot_minutes must be at least 1, pool_size at least 0."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.max_runners < 0 || c.pool_size <= c.max_runners])
    error_message = "runner_configs: pool_size must not exceed max_runners."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.pool_size == 0 || (c.level == "org" && c.pool_owner != null && !strcontains(coalesce(c.pool_owner, "/"), "/"))])
    error_message = "runner_configs: a warm pool (pool_size > 0) needs level org and pool_owner naming the organization."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : contains(["oldest_first", "newest_first"], c.idle_eviction)])
    error_message = "runner_configs: idle_eviction must be oldest_first or newest_first."
  }
  validation {
    condition = alltrue(flatten([for c in values(var.runner_configs) : [for w in c.idle_config :
      (length(split(" ", trimspace(w.cron))) == 5 || startswith(w.cron, "@")) && w.idle_count >= 0 && w.time_zone != ""
    ]]))
    error_message = "runner_configs: idle_config windows need a five-field cron expression (or @daily style), a time_zone and idle_count >= 0."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : length(c.subnet_ids) > 0 || length(var.subnet_ids) > 0])
    error_message = "runner_configs: every config needs subnets: set subnet_ids on the config or the module's subnet_ids."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : can(regex("^[a-z_][a-z0-9_-]{0,31}$", c.runner_user)) && c.runner_user != "root"])
    error_message = "runner_configs: runner_user must be a valid Linux user name other than root (jobs never run as root)."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : can(regex("^/[A-Za-z0-9/_.-]+$", c.runner_dir)) && can(regex("^[A-Za-z0-9/_.:-]*$", c.cloudwatch_config_parameter))])
    error_message = "runner_configs: runner_dir must be an absolute path and cloudwatch_config_parameter a parameter name (no quotes or spaces: both are placed in the user data)."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.ami.id == null || can(regex("^ami-[0-9a-f]+$", coalesce(c.ami.id, "-")))])
    error_message = "runner_configs: ami.id must look like ami-0123456789abcdef0."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.root_volume_size >= 8 && c.root_volume_size <= 16384 && contains(["gp3", "gp2", "io1", "io2"], c.root_volume_type)])
    error_message = "runner_configs: root_volume_size must be 8 to 16384 GiB and root_volume_type gp3, gp2, io1 or io2."
  }
  validation {
    condition     = alltrue([for c in values(var.runner_configs) : c.metadata_hop_limit >= 1 && c.metadata_hop_limit <= 64 && c.token_wait_timeout_seconds >= 30 && c.token_wait_timeout_seconds <= 3600])
    error_message = "runner_configs: metadata_hop_limit must be 1 to 64 and token_wait_timeout_seconds 30 to 3600."
  }
}

variable "github_app" {
  description = "GitHub App credentials given as values: `id`, `key` (PEM or base64 of PEM) and `webhook_secret`. The module stores each as a SecureString under `/<prefix>/app/`. Leave out those given in `github_app_parameters`."
  type = object({
    id             = optional(string)
    key            = optional(string)
    webhook_secret = optional(string)
  })
  sensitive = true
  default   = {}
  validation {
    condition = alltrue([for k in ["id", "key", "webhook_secret"] :
      nonsensitive(var.github_app[k] != null) != (var.github_app_parameters[k] != null)
    ])
    error_message = "github_app: give each of id, key and webhook_secret exactly once, as a value here or as a parameter name in github_app_parameters."
  }
  validation {
    condition     = var.github_app.id == null || can(regex("^[0-9]+$", coalesce(var.github_app.id, "-")))
    error_message = "github_app: id must be the App's numeric id."
  }
  validation {
    condition     = var.github_app.webhook_secret == null || length(coalesce(var.github_app.webhook_secret, "-")) >= 16
    error_message = "github_app: webhook_secret must be at least 16 characters."
  }
}

variable "github_app_parameters" {
  description = "Names (or ARNs) of existing SecureStrings holding the App credentials not given in `github_app`: `id`, `key`, `webhook_secret`. They must be encrypted with `kms_key_arn` or the AWS-managed `aws/ssm` key."
  type = object({
    id             = optional(string)
    key            = optional(string)
    webhook_secret = optional(string)
  })
  default = {}
  validation {
    condition     = alltrue([for k in ["id", "key", "webhook_secret"] : var.github_app_parameters[k] == null || can(regex("^(/[A-Za-z0-9_.-]+)+$|^arn:aws[a-z-]*:ssm:", coalesce(var.github_app_parameters[k], "-")))])
    error_message = "github_app_parameters: give parameter names starting with / (or parameter ARNs)."
  }
}

variable "github_apps" {
  description = "More GitHub Apps to spread GitHub calls over, each with its own secondary-limit budget (docs/configuration.md#several-github-apps). Install each on the same owners as `github_app`, with the same permissions and no webhook: events come from `github_app` alone. Give each App's `id` and `key` (PEM or base64 of PEM) as values, which the module stores as SecureStrings under `/<prefix>/app/<n>/` (n = 2, 3...), or as existing SecureString names in `id_parameter` and `key_parameter`. `points_per_minute` is that App's budget, split over the functions and their containers like `github_points_per_minute` (default: the same). Empty (the default) is the one-App deployment."
  type = list(object({
    id                = optional(string)
    key               = optional(string)
    id_parameter      = optional(string)
    key_parameter     = optional(string)
    points_per_minute = optional(number)
  }))
  sensitive = true
  default   = []
  validation {
    condition     = nonsensitive(length(var.github_apps)) <= 10
    error_message = "github_apps: at most 10 more Apps (each adds to every function's environment, which Lambda caps at 4 KB)."
  }
  validation {
    condition = alltrue([for a in var.github_apps : nonsensitive(
      (a.id != null) != (a.id_parameter != null) && (a.key != null) != (a.key_parameter != null)
    )])
    error_message = "github_apps: give each App's id and key exactly once, as a value (id, key) or as a parameter name (id_parameter, key_parameter)."
  }
  validation {
    condition     = alltrue([for a in var.github_apps : nonsensitive(a.id == null || can(regex("^[0-9]+$", coalesce(a.id, "-"))))])
    error_message = "github_apps: id must be the App's numeric id."
  }
  validation {
    condition = alltrue([for a in var.github_apps : nonsensitive(alltrue([
      for n in [a.id_parameter, a.key_parameter] : n == null || can(regex("^(/[A-Za-z0-9_.-]+)+$|^arn:aws[a-z-]*:ssm:", coalesce(n, "-")))
    ]))])
    error_message = "github_apps: give parameter names starting with / (or parameter ARNs)."
  }
  validation {
    condition = alltrue([for a in var.github_apps : nonsensitive(
      a.points_per_minute == null || (coalesce(a.points_per_minute, 10) >= 10 && coalesce(a.points_per_minute, 10) <= 900 && floor(coalesce(a.points_per_minute, 10)) == coalesce(a.points_per_minute, 10))
    )])
    error_message = "github_apps: points_per_minute must be a whole number from 10 to 900 (GitHub's secondary limit per endpoint)."
  }
}

variable "github_api_url" {
  description = "GitHub API URL: empty for github.com, `https://HOST/api/v3` for GitHub Enterprise Server."
  type        = string
  default     = ""
  validation {
    condition     = var.github_api_url == "" || can(regex("^https?://[^ ]+$", var.github_api_url))
    error_message = "github_api_url must be empty or an http(s) URL."
  }
}

variable "github_points_per_minute" {
  description = "GitHub secondary-limit budget of the whole deployment: the most points (a GET 1, a mutation 5) all its functions together may spend on one REST endpoint in any minute. It is split over every container that can run at once (GITHUB_POINTS_PER_MINUTE; docs/decisions.md). The default is 80% of GitHub's 900; lower it when other tools share the App."
  type        = number
  default     = 720
  validation {
    condition     = var.github_points_per_minute >= 10 && var.github_points_per_minute <= 900 && floor(var.github_points_per_minute) == var.github_points_per_minute
    error_message = "github_points_per_minute must be a whole number from 10 to 900 (GitHub's secondary limit per endpoint)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for runner tokens, the dist bucket and (with `encrypt_log_groups`) the log groups, and runner volumes with `runner_volume_kms_key = \"deployment\"`. null creates a key with rotation. A key of yours must let CloudWatch Logs use it when `encrypt_log_groups` is true."
  type        = string
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "app_kms_key_arn" {
  description = "KMS key for the App SecureStrings the module creates from `github_app`. null creates a key with rotation whose key policy denies the runner role every use. A key of yours must deny the runner role (`<prefix>-runner`) itself; the runner role's policy also denies decrypting any App parameter whatever its key."
  type        = string
  default     = null
  validation {
    condition     = var.app_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", coalesce(var.app_kms_key_arn, "-")))
    error_message = "app_kms_key_arn must be a KMS key ARN."
  }
}

variable "runner_volume_kms_key" {
  description = "KMS key encrypting runner root volumes: `aws/ebs` (the AWS-managed key: works with no grant), `deployment` (the deployment's key, `kms_key_arn`: scale-up and pool get EC2's use of it, and a key the module creates lets the EC2 Fleet and Spot service-linked roles use it) or a key ARN (the same grants; its key policy must allow those service-linked roles)."
  type        = string
  default     = "aws/ebs"
  validation {
    condition     = contains(["aws/ebs", "deployment"], var.runner_volume_kms_key) || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.runner_volume_kms_key))
    error_message = "runner_volume_kms_key must be aws/ebs, deployment or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the module's key is deleted after destroy."
  type        = number
  default     = 30
  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be 7 to 30."
  }
}

variable "encrypt_log_groups" {
  description = "Encrypt the log groups with the deployment's KMS key."
  type        = bool
  default     = true
}

variable "lambda_dist_dir" {
  description = "Directory holding the function zips from `make dist` (`<name>.zip`); null is the repository's `dist/`."
  type        = string
  default     = null
}

variable "lambda_zip_paths" {
  description = "Zip path per function name (webhook, scale-up, scale-down, cleanup, pool, redeliver, syncer, spot-interruption), overriding `lambda_dist_dir`."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.lambda_zip_paths) : contains(["webhook", "scale-up", "scale-down", "cleanup", "pool", "redeliver", "syncer", "spot-interruption"], k)])
    error_message = "lambda_zip_paths: keys must be function names: webhook, scale-up, scale-down, cleanup, pool, redeliver, syncer, spot-interruption."
  }
}

variable "lambda_s3" {
  description = "Deploy the functions from zips already in S3 instead of local files: `bucket` (in the deployment's region), each function's `keys` (default `<key_prefix><name>.zip`, the names a release uses are `<name>_linux_<arm64|amd64>.zip`) and, to redeploy when a zip changes under the same key, `object_versions` (a versioned bucket). The deploying identity needs s3:GetObject on them. null deploys from `lambda_dist_dir`."
  type = object({
    bucket          = string
    key_prefix      = optional(string, "")
    keys            = optional(map(string), {})
    object_versions = optional(map(string), {})
  })
  default = null
  validation {
    condition = var.lambda_s3 == null || alltrue([for k in concat(keys(try(var.lambda_s3.keys, {})), keys(try(var.lambda_s3.object_versions, {}))) :
    contains(["webhook", "scale-up", "scale-down", "cleanup", "pool", "redeliver", "syncer", "spot-interruption"], k)])
    error_message = "lambda_s3: keys and object_versions must be keyed by function name: webhook, scale-up, scale-down, cleanup, pool, redeliver, syncer, spot-interruption."
  }
  validation {
    condition     = var.lambda_s3 == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", try(var.lambda_s3.bucket, "")))
    error_message = "lambda_s3.bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, dots or hyphens)."
  }
}

variable "lambda_architecture" {
  description = "Architecture the zips were built for (`make dist ARCH=...`): arm64 or x86_64."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "function_settings" {
  description = "Per function name: `memory_size` (MB), `timeout` (s) and `reserved_concurrency` (-1 for none) overriding the module's defaults."
  type = map(object({
    memory_size          = optional(number)
    timeout              = optional(number)
    reserved_concurrency = optional(number)
  }))
  default = {}
  validation {
    condition     = alltrue([for k in keys(var.function_settings) : contains(["webhook", "scale-up", "scale-down", "cleanup", "pool", "redeliver", "syncer", "spot-interruption"], k)])
    error_message = "function_settings: keys must be function names: webhook, scale-up, scale-down, cleanup, pool, redeliver, syncer, spot-interruption."
  }
  validation {
    condition = alltrue([for s in values(var.function_settings) :
      (s.memory_size == null || (coalesce(s.memory_size, 128) >= 128 && coalesce(s.memory_size, 128) <= 10240)) &&
      (s.timeout == null || (coalesce(s.timeout, 1) >= 1 && coalesce(s.timeout, 1) <= 900)) &&
      (s.reserved_concurrency == null || coalesce(s.reserved_concurrency, 0) >= -1)
    ])
    error_message = "function_settings: memory_size must be 128 to 10240, timeout 1 to 900, reserved_concurrency -1 or more."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function: debug, info, warn or error."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "tracing_enabled" {
  description = "Enable X-Ray active tracing on every function."
  type        = bool
  default     = false
}

variable "lambda_vpc" {
  description = "Run the functions in these subnets and security groups (e.g. to reach GitHub Enterprise Server); null runs them outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
  validation {
    condition     = var.lambda_vpc == null || (length(try(var.lambda_vpc.subnet_ids, [])) > 0 && length(try(var.lambda_vpc.security_group_ids, [])) > 0)
    error_message = "lambda_vpc needs at least one subnet and one security group."
  }
}

variable "role_path" {
  description = "Path of every IAM role and instance profile."
  type        = string
  default     = "/"
  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with / (e.g. /ghr/)."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary set on every IAM role; null for none."
  type        = string
  default     = null
  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::", coalesce(var.role_permissions_boundary, "-")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}

variable "runner_name_prefix" {
  description = "GitHub runner name = this + instance id; null is `<prefix>-`."
  type        = string
  default     = null
  validation {
    condition     = var.runner_name_prefix == null || can(regex("^[A-Za-z0-9_.-]{1,40}$", coalesce(var.runner_name_prefix, "-")))
    error_message = "runner_name_prefix must be 1 to 40 letters, digits, dots, underscores or hyphens."
  }
  validation {
    # "ci-" and "ci-i-" overlap: "ci-i-" + "i-0abc…" reads as "ci-" + "i-i-0abc…". ghr parses
    # names strictly (prefix + ^i-[0-9a-f]{8,17}$), but a prefix whose last word is "i" is
    # refused so that neither older tools nor people reading runner lists confuse the two.
    condition     = var.runner_name_prefix == null || !can(regex("(^|[^A-Za-z0-9])i-$", coalesce(var.runner_name_prefix, "-")))
    error_message = "runner_name_prefix must not end in a word \"i\" followed by \"-\" (like \"ci-i-\"): it would overlap with the deployment whose prefix is its beginning."
  }
}

variable "runner_additional_policy_arns" {
  description = "Managed policies attached to the runner role besides the module's own. For Session Manager use `enable_session_manager` rather than AmazonSSMManagedInstanceCore. Whatever they allow, the runner role can never read or decrypt the App credentials."
  type        = list(string)
  default     = []
}

variable "runner_logs" {
  description = "Ship each runner's boot log and the runner's own logs to the CloudWatch log group `/<prefix>/runners` (retention and encryption as the functions' log groups; streams `<instance id>/bootstrap`, `/runner`, `/worker`), with the CloudWatch agent the boot installs and an agent configuration per runner config in SSM (`/<prefix>/cloudwatch-agent/<config>`). The runner role may write only there. A runner config's own `cloudwatch_config_parameter` replaces the deployment's configuration."
  type        = bool
  default     = true
}

variable "enable_session_manager" {
  description = "Let runner instances register with Systems Manager so operators can open Session Manager shells: a policy with only the agent's registration and message channels (no ssm:GetParameter*, unlike AmazonSSMManagedInstanceCore)."
  type        = bool
  default     = false
}

variable "runner_configs_storage" {
  description = "Where the functions find the runner configs: `inline` (RUNNER_CONFIGS), `parameter` (an SSM parameter named by RUNNER_CONFIGS_PARAMETER) or `auto`: inline while the JSON fits `runner_configs_inline_max_bytes`, else the parameter."
  type        = string
  default     = "auto"
  validation {
    condition     = contains(["auto", "inline", "parameter"], var.runner_configs_storage)
    error_message = "runner_configs_storage must be auto, inline or parameter."
  }
}

variable "runner_configs_inline_max_bytes" {
  description = "Largest runner-configs JSON the `auto` rule keeps inline. Lambda allows 4096 bytes of environment in all."
  type        = number
  default     = 3072
  validation {
    condition     = var.runner_configs_inline_max_bytes >= 0 && var.runner_configs_inline_max_bytes <= 3584
    error_message = "runner_configs_inline_max_bytes must be 0 to 3584 (the other variables need the rest of Lambda's 4096 bytes)."
  }
}

variable "scale_up" {
  description = "Scale-up: SQS `batch_size` (1-10), `batching_window_seconds` (0-300), `maximum_concurrency` per build queue (2-1000; default 2: GitHub's secondary limit, not compute, bounds scale-up, and each container's part of `github_points_per_minute` shrinks with it), `check_job_queued` (auto, always, never), `github_concurrency` (1-100), `offering_cache_ttl` (Go duration), `recheck_after` (Go duration, 10s-15m, default 4m: when a launch of ephemeral runners is first re-checked after registration, internal/reconcile)."
  type = object({
    batch_size              = optional(number, 10)
    batching_window_seconds = optional(number, 0)
    maximum_concurrency     = optional(number, 2)
    check_job_queued        = optional(string, "auto")
    github_concurrency      = optional(number, 10)
    offering_cache_ttl      = optional(string, "3m")
    recheck_after           = optional(string, "4m")
  })
  default = {}
  validation {
    condition     = var.scale_up.batch_size >= 1 && var.scale_up.batch_size <= 10
    error_message = "scale_up.batch_size must be 1 to 10 (SQS's largest batch without a batching window is 10)."
  }
  validation {
    condition     = var.scale_up.batching_window_seconds >= 0 && var.scale_up.batching_window_seconds <= 300
    error_message = "scale_up.batching_window_seconds must be 0 to 300."
  }
  validation {
    condition     = var.scale_up.maximum_concurrency >= 2 && var.scale_up.maximum_concurrency <= 1000
    error_message = "scale_up.maximum_concurrency must be 2 to 1000 (Lambda's limits for SQS sources)."
  }
  validation {
    condition     = contains(["auto", "always", "never"], var.scale_up.check_job_queued)
    error_message = "scale_up.check_job_queued must be auto, always or never."
  }
  validation {
    condition     = var.scale_up.github_concurrency >= 1 && var.scale_up.github_concurrency <= 100
    error_message = "scale_up.github_concurrency must be 1 to 100."
  }
  validation {
    # A Go duration RECHECK_AFTER accepts: 10s to 900s (SQS's longest delay), or 1m to 15m.
    condition     = can(regex("^(([1-9][0-9]|[1-8][0-9][0-9]|900)s|([1-9]|1[0-5])m)$", var.scale_up.recheck_after))
    error_message = "scale_up.recheck_after must be whole seconds (10s-900s) or minutes (1m-15m)."
  }
  validation {
    condition     = can(regex("^[0-9]+(s|m|h)$", var.scale_up.offering_cache_ttl))
    error_message = "scale_up.offering_cache_ttl must be a duration such as 90s, 3m or 1h."
  }
}

variable "build_queue" {
  description = "Build and lifecycle queues: `max_receive_count` before a message goes to the dead-letter queue, `message_retention_seconds`."
  type = object({
    max_receive_count         = optional(number, 5)
    message_retention_seconds = optional(number, 86400)
  })
  default = {}
  validation {
    condition     = var.build_queue.max_receive_count >= 1 && var.build_queue.max_receive_count <= 1000
    error_message = "build_queue.max_receive_count must be 1 to 1000."
  }
  validation {
    condition     = var.build_queue.message_retention_seconds >= 60 && var.build_queue.message_retention_seconds <= 1209600
    error_message = "build_queue.message_retention_seconds must be 60 to 1209600."
  }
}

variable "scale_down_schedule" {
  description = "EventBridge Scheduler expression of scale-down (reconcile)."
  type        = string
  default     = "rate(5 minutes)"
  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.scale_down_schedule))
    error_message = "scale_down_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "pool_schedule" {
  description = "EventBridge Scheduler `expression` and IANA `timezone` of the warm-pool top-up (deployed when a config has pool_size > 0)."
  type = object({
    expression = optional(string, "cron(*/5 * * * ? *)")
    timezone   = optional(string, "UTC")
  })
  default = {}
  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.pool_schedule.expression)) && var.pool_schedule.timezone != ""
    error_message = "pool_schedule needs a rate(...) or cron(...) expression and a time zone."
  }
}

variable "repository_allowlist" {
  description = "Repositories (`owner/repo` or `owner/*`) whose jobs are accepted; empty accepts every repository the App is installed on."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for r in var.repository_allowlist : can(regex("^[A-Za-z0-9_.-]+/([A-Za-z0-9_.-]+|\\*)$", r))])
    error_message = "repository_allowlist entries must be owner/repo or owner/*."
  }
}

variable "webhook_max_body_bytes" {
  description = "Largest webhook body accepted (16 KiB to 10 MiB)."
  type        = number
  default     = 1048576
  validation {
    condition     = var.webhook_max_body_bytes >= 16384 && var.webhook_max_body_bytes <= 10485760
    error_message = "webhook_max_body_bytes must be 16384 to 10485760."
  }
}

variable "api_throttling" {
  description = <<-EOT
    Throttling of the webhook route: `burst_limit` and `rate_limit` (requests per second). The
    route's throttle is shared by GitHub and anyone else who knows the URL, so the defaults
    (2000 burst, 1000 per second) sit far above GitHub's delivery rate even for a busy
    organisation (a few deliveries a second; a burst of a few hundred when many workflows
    start at once): someone flooding the URL must send 1000 requests a second to crowd
    GitHub out, and the `webhook-4xx` alarm sees it (throttled requests answer 429). They are
    capped by API Gateway's account limits per region (10,000 per second, 5,000 burst).
  EOT
  type = object({
    burst_limit = optional(number, 2000)
    rate_limit  = optional(number, 1000)
  })
  default = {}
  validation {
    condition     = var.api_throttling.burst_limit >= 1 && var.api_throttling.rate_limit >= 1
    error_message = "api_throttling limits must be at least 1."
  }
  validation {
    condition     = var.api_throttling.burst_limit <= 5000 && var.api_throttling.rate_limit <= 10000
    error_message = "api_throttling cannot exceed API Gateway's account limits: burst_limit 5000, rate_limit 10000."
  }
}

variable "webhook_source_ranges" {
  description = <<-EOT
    CIDR ranges webhook requests may come from; empty admits every source. Set it to GitHub's
    published hook ranges, the `hooks` list of `GET https://api.github.com/meta` (for example
    `curl -s https://api.github.com/meta | jq -c .hooks`), and update it when GitHub announces
    a change. The webhook function refuses other sources with 403 before reading the body or
    checking its signature; an HTTP API has no resource policy, so such requests still count
    against `api_throttling` (see docs/decisions.md).
  EOT
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.webhook_source_ranges : can(cidrhost(c, 0))])
    error_message = "webhook_source_ranges entries must be CIDR ranges such as 140.82.112.0/20 or 2606:50c0::/32."
  }
}

variable "redeliver" {
  description = "Redelivery of failed webhook deliveries: `enabled`, `schedule`, `lookback` (5m to 72h), `max_per_pass` (1-1000)."
  type = object({
    enabled      = optional(bool, true)
    schedule     = optional(string, "rate(10 minutes)")
    lookback     = optional(string, "1h")
    max_per_pass = optional(number, 100)
  })
  default = {}
  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.redeliver.schedule))
    error_message = "redeliver.schedule must be a rate(...) or cron(...) expression."
  }
  validation {
    condition     = can(regex("^[0-9]+(m|h)$", var.redeliver.lookback))
    error_message = "redeliver.lookback must be a duration in minutes or hours, such as 90m or 1h (5m to 72h)."
  }
  validation {
    condition     = var.redeliver.max_per_pass >= 1 && var.redeliver.max_per_pass <= 1000
    error_message = "redeliver.max_per_pass must be 1 to 1000."
  }
}

variable "syncer" {
  description = "Runner-binaries syncer: `runner_version` (latest or x.y.z), `runner_targets` (`<os>-<arch>`), `runner_repository`, `credentials` (app, token or anonymous), `token_parameter` (for token), `schedule`, `invoke_after_deploy`."
  type = object({
    runner_version      = optional(string, "latest")
    runner_targets      = optional(list(string), ["linux-x64", "linux-arm64"])
    runner_repository   = optional(string, "actions/runner")
    credentials         = optional(string, "app")
    token_parameter     = optional(string)
    schedule            = optional(string, "rate(1 hour)")
    invoke_after_deploy = optional(bool, true)
  })
  default = {}
  validation {
    condition     = var.syncer.runner_version == "latest" || can(regex("^v?[0-9]+\\.[0-9]+\\.[0-9]+$", var.syncer.runner_version))
    error_message = "syncer.runner_version must be latest or x.y.z."
  }
  validation {
    condition     = length(var.syncer.runner_targets) > 0 && alltrue([for t in var.syncer.runner_targets : can(regex("^(linux|win|osx)-(x64|arm64|arm)$", t))])
    error_message = "syncer.runner_targets must hold <linux|win|osx>-<x64|arm64|arm> targets."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.syncer.runner_repository))
    error_message = "syncer.runner_repository must be owner/name."
  }
  validation {
    condition     = contains(["app", "token", "anonymous"], var.syncer.credentials) && ((var.syncer.credentials == "token") == (var.syncer.token_parameter != null))
    error_message = "syncer.credentials must be app, token or anonymous, and token_parameter is required with token and only then."
  }
  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.syncer.schedule))
    error_message = "syncer.schedule must be a rate(...) or cron(...) expression."
  }
}

variable "dist_bucket" {
  description = "Dist bucket of runner archives: `name` (null derives `<prefix>-dist-<account id>`), `force_destroy`, `noncurrent_version_days`, `access_log_bucket` (null for no access logs), `require_tls` (deny plain-http requests; only a local emulator needs false)."
  type = object({
    name                    = optional(string)
    force_destroy           = optional(bool, false)
    noncurrent_version_days = optional(number, 30)
    access_log_bucket       = optional(string)
    require_tls             = optional(bool, true)
  })
  default = {}
  validation {
    condition     = var.dist_bucket.name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.dist_bucket.name, "-")))
    error_message = "dist_bucket.name must be a valid S3 bucket name."
  }
  validation {
    condition     = var.dist_bucket.noncurrent_version_days >= 1
    error_message = "dist_bucket.noncurrent_version_days must be at least 1."
  }
}

variable "alarms" {
  description = <<-EOT
    CloudWatch alarms, their SNS topic and the dashboard (docs/alarms.md). Each alarm is switched
    by its own attribute: a bool, or a threshold where 0 turns it off. `sns_topic_arn` brings your
    own topic; null creates one (output `alarm_topic_arn`). `enabled = false` creates no alarm
    and no topic.
  EOT
  type = object({
    enabled                     = optional(bool, true)
    sns_topic_arn               = optional(string)
    dashboard                   = optional(bool, true)
    dlq_messages                = optional(bool, true)
    queue_age_minutes           = optional(number, 15)
    function_errors             = optional(bool, true)
    function_throttles          = optional(bool, true)
    webhook_4xx_percent         = optional(number, 10)
    webhook_5xx_percent         = optional(number, 1)
    github_quota_remaining      = optional(number, 500)
    spot_interruptions_per_hour = optional(number, 20)
    deferrals_minutes           = optional(number, 15)
    jobs_given_up               = optional(bool, true)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.alarms.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$", var.alarms.sns_topic_arn))
    error_message = "alarms.sns_topic_arn must be an SNS topic ARN."
  }
  validation {
    condition = alltrue([for v in [var.alarms.queue_age_minutes, var.alarms.webhook_4xx_percent, var.alarms.webhook_5xx_percent,
    var.alarms.github_quota_remaining, var.alarms.spot_interruptions_per_hour, var.alarms.deferrals_minutes] : v >= 0])
    error_message = "alarm thresholds are 0 (off) or positive."
  }
  validation {
    condition     = var.alarms.webhook_4xx_percent <= 100 && var.alarms.webhook_5xx_percent <= 100
    error_message = "webhook alarm thresholds are percentages (0-100)."
  }
  validation {
    # CloudWatch evaluates at most a day of periods; at one-minute periods that is 1440.
    condition     = var.alarms.deferrals_minutes <= 1440 && var.alarms.queue_age_minutes <= 20160
    error_message = "alarms.deferrals_minutes is at most 1440; alarms.queue_age_minutes at most 20160 (SQS' longest retention)."
  }
}

variable "spot_circuit_breaker" {
  description = "Spot circuit breaker per runner config (SPOT_BREAKER_*; internal/interruption): after `interruptions` spot interruptions within `window_minutes`, the config launches on-demand for `cooldown_minutes`. The defaults are RunsOn's (2 in 15 minutes → 30 minutes); `interruptions = 0` turns it off. An interrupted job is re-run once on on-demand either way."
  type = object({
    interruptions    = optional(number, 2)
    window_minutes   = optional(number, 15)
    cooldown_minutes = optional(number, 30)
  })
  default = {}
  validation {
    condition     = var.spot_circuit_breaker.interruptions >= 0 && var.spot_circuit_breaker.interruptions <= 100 && floor(var.spot_circuit_breaker.interruptions) == var.spot_circuit_breaker.interruptions
    error_message = "spot_circuit_breaker.interruptions must be a whole number from 0 (off) to 100."
  }
  validation {
    condition = alltrue([for m in [var.spot_circuit_breaker.window_minutes, var.spot_circuit_breaker.cooldown_minutes] :
    m >= 2 && m <= 1440 && floor(m) == m])
    error_message = "spot_circuit_breaker.window_minutes and cooldown_minutes must be whole minutes from 2 (a reclaim's notice) to 1440."
  }
}
