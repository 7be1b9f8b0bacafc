# Plan-time input rules, by example. internal/harness/tfmodule proves every validation block fires
# with its own message (one plan with every rule broken at once); these runs show the rules
# through terraform test and keep a valid baseline.

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
  runner_configs = { small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] } }
}

run "accepts_the_defaults" {
  command = plan
}

run "accepts_existing_parameters" {
  command = plan
  variables {
    github_app            = { id = "1" }
    github_app_parameters = { key = "/shared/github/app-key", webhook_secret = "/shared/github/webhook-secret" }
  }
}

run "rejects_a_prefix_that_cannot_name_a_bucket" {
  command = plan
  variables {
    prefix = "Ghr_Prod"
  }
  expect_failures = [var.prefix]
}

run "rejects_a_pool_without_its_organization" {
  command = plan
  variables {
    runner_configs = { small = { labels = ["linux"], instance_types = ["m7i.large"], pool_size = 2 } }
  }
  expect_failures = [var.runner_configs]
}

run "rejects_a_credential_given_twice" {
  command = plan
  variables {
    github_app_parameters = { id = "/shared/github/app-id" }
  }
  expect_failures = [var.github_app]
}

run "rejects_a_token_syncer_without_its_token" {
  command = plan
  variables {
    syncer = { credentials = "token" }
  }
  expect_failures = [var.syncer]
}

run "rejects_a_runner_name_prefix_that_overlaps_another" {
  command = plan
  variables {
    runner_name_prefix = "ci-i-"
  }
  expect_failures = [var.runner_name_prefix]
}

run "rejects_throttling_beyond_the_account_limits" {
  command = plan
  variables {
    api_throttling = { rate_limit = 20000 }
  }
  expect_failures = [var.api_throttling]
}

run "rejects_a_webhook_source_range_that_is_not_cidr" {
  command = plan
  variables {
    webhook_source_ranges = ["140.82.112.0/20", "github.com"]
  }
  expect_failures = [var.webhook_source_ranges]
}

run "accepts_github_hook_ranges" {
  command = plan
  variables {
    webhook_source_ranges = ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "2a0a:a440::/29", "2606:50c0::/32"]
  }
}
