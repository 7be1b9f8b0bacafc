# Alarms, their topic and the dashboard: each alarm switchable, the topic created or brought.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  prefix     = "ghr-test"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
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
  runner_configs = {
    small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] }
    large = { labels = ["self-hosted", "linux", "arm64", "large"], architecture = "arm64", instance_types = ["m7g.2xlarge"], match = "exact", priority = 5 }
  }
}

run "defaults_alarm_everything_on_a_new_topic" {
  command = apply

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:123456789012:ghr-test-alarms"
    error_message = "without sns_topic_arn the module creates its topic and outputs it, got ${jsonencode(output.alarm_topic_arn)}"
  }
  assert {
    condition     = length(output.alarm_names.dlq) == 3 && contains(output.alarm_names.dlq, "ghr-test-dlq-lifecycle") && contains(output.alarm_names.dlq, "ghr-test-dlq-small")
    error_message = "one DLQ alarm per build queue and one for the lifecycle queue, got ${jsonencode(output.alarm_names.dlq)}"
  }
  assert {
    condition     = output.alarm_names.queue_age == ["ghr-test-queue-age-large", "ghr-test-queue-age-small"]
    error_message = "one oldest-job alarm per build queue, got ${jsonencode(output.alarm_names.queue_age)}"
  }
  assert {
    condition     = length(output.alarm_names.function_errors) == 6 && length(output.alarm_names.function_throttles) == 6 && !contains(output.alarm_names.function_errors, "ghr-test-syncer-errors")
    error_message = "errors and throttles alarms for every function but the syncer, got ${jsonencode(output.alarm_names.function_errors)}"
  }
  assert {
    condition     = output.alarm_names.webhook == ["ghr-test-webhook-4xx", "ghr-test-webhook-5xx"]
    error_message = "webhook 4xx and 5xx rate alarms, got ${jsonencode(output.alarm_names.webhook)}"
  }
  assert {
    condition = (output.alarm_names.github_quota == ["ghr-test-github-quota"] && output.alarm_names.spot_interruptions == ["ghr-test-spot-interruptions"]
    && output.alarm_names.deferrals == ["ghr-test-scale-up-deferrals"] && output.alarm_names.jobs_given_up == ["ghr-test-jobs-given-up"])
    error_message = "GitHub quota, spot interruption, deferral and jobs-given-up alarms on by default"
  }
  assert {
    condition     = output.dashboard_name == "ghr-test"
    error_message = "the dashboard is on by default and named after the prefix"
  }
}

run "own_topic" {
  command = apply
  variables {
    alarms = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall" }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall"
    error_message = "a topic brought in is the one the alarms notify"
  }
  assert {
    condition     = length(output.alarm_names.dlq) == 3
    error_message = "alarms stay on with a topic brought in"
  }
}

run "each_alarm_switches_off" {
  command = apply
  variables {
    alarms = {
      dlq_messages        = false, queue_age_minutes = 0, function_errors = false, function_throttles = false, webhook_4xx_percent = 0,
      webhook_5xx_percent = 0, github_quota_remaining = 0, spot_interruptions_per_hour = 0, deferrals_minutes = 0, dashboard = false,
      jobs_given_up       = false
    }
  }
  assert {
    condition     = alltrue([for k, v in output.alarm_names : length(v) == 0])
    error_message = "every alarm has its own switch, got ${jsonencode(output.alarm_names)}"
  }
  assert {
    condition     = output.dashboard_name == null
    error_message = "dashboard = false creates no dashboard"
  }
}

run "one_webhook_class_only" {
  command = apply
  variables {
    alarms = { webhook_4xx_percent = 0, dlq_messages = false }
  }
  assert {
    condition     = output.alarm_names.webhook == ["ghr-test-webhook-5xx"] && length(output.alarm_names.dlq) == 0 && length(output.alarm_names.queue_age) == 2
    error_message = "switches are independent, got ${jsonencode(output.alarm_names)}"
  }
}

run "alarms_disabled" {
  command = apply
  variables {
    alarms = { enabled = false }
  }
  assert {
    condition     = output.alarm_topic_arn == null && alltrue([for k, v in output.alarm_names : length(v) == 0])
    error_message = "enabled = false creates no topic and no alarm"
  }
}

run "rejects_a_topic_that_is_not_an_arn" {
  command = plan
  variables {
    alarms = { sns_topic_arn = "oncall" }
  }
  expect_failures = [var.alarms]
}

run "rejects_negative_thresholds" {
  command = plan
  variables {
    alarms = { queue_age_minutes = -1 }
  }
  expect_failures = [var.alarms]
}
