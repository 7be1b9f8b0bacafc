# The GitHub secondary-limit budget (docs/decisions.md): github_points_per_minute is split
# over every function that calls GitHub by weight, then over the containers each can run at
# once, into GITHUB_POINTS_PER_MINUTE. The sum over all containers never exceeds the budget.

mock_provider "aws" {
  source = "./tests/mocks"
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
  runner_configs = {
    small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] }
    large = { labels = ["self-hosted", "linux", "arm64"], architecture = "arm64", instance_types = ["m7g.2xlarge"] }
  }
}

# Every function but pool deployed: weights 13 (scale-up), 2 (scale-down, cleanup), 1
# (syncer, spot-interruption) of 19. Scale-up: 720 × 13/19 = 492 over one queue's 2
# containers → 246 each; cleanup 75 over its 2 containers. Redeliver alone calls its
# endpoints: all 720 for its one container, which is the most any endpoint sees (the shared
# ones 715). Pool is not deployed: its 10 is never used.
run "default_split" {
  command = plan

  assert {
    condition = local.github_points_per_minute == {
      "scale-up" = 246, "scale-down" = 75, cleanup = 37, pool = 10, redeliver = 720, syncer = 37, "spot-interruption" = 37
    }
    error_message = "per-container points ${jsonencode(local.github_points_per_minute)}"
  }
  assert {
    condition     = local.github_containers == { "scale-up" = 2, "scale-down" = 1, cleanup = 2, pool = 1, redeliver = 1, syncer = 1, "spot-interruption" = 1 }
    error_message = "containers at once ${jsonencode(local.github_containers)}"
  }
  assert {
    condition     = output.github_pacing.spend == max(246 * 2 + 75 + 37 * 2 + 37 + 37, 720) && !output.github_pacing.over_budget
    error_message = "the deployed functions' containers together may spend ${output.github_pacing.spend} of ${var.github_points_per_minute}"
  }
  assert {
    condition     = !contains(keys(output.github_pacing.functions), "pool")
    error_message = "pool is not deployed, so it has no part"
  }
}

# Reserved concurrency caps the containers a share is divided by.
run "reserved_concurrency_caps_scale_up" {
  command = plan
  variables {
    function_settings = { "scale-up" = { reserved_concurrency = 4 } }
    scale_up          = { maximum_concurrency = 10 }
  }

  assert {
    condition     = local.github_containers["scale-up"] == 4 && local.github_points_per_minute["scale-up"] == 123
    error_message = "scale-up capped at 4 containers: ${local.github_containers["scale-up"]} containers of ${local.github_points_per_minute["scale-up"]} points"
  }
}

# Functions that are not deployed (no cleanup without ephemeral configs, no pool, no
# redeliver) or do not call GitHub as the App (an anonymous syncer) leave their share to the
# others: 720 × 13/16 over one queue of 2 containers, 720 × 2/16 to scale-down, 720 × 1/16
# to spot-interruption (the config is spot).
run "unused_shares_go_to_the_rest" {
  command = plan
  variables {
    runner_configs = { build = { labels = ["linux"], instance_types = ["m7i.large"], ephemeral = false } }
    redeliver      = { enabled = false }
    syncer         = { credentials = "anonymous" }
  }

  assert {
    condition     = local.github_points_per_minute["scale-up"] == 292 && local.github_points_per_minute["scale-down"] == 90 && local.github_points_per_minute["spot-interruption"] == 45
    error_message = "per-container points ${jsonencode(local.github_points_per_minute)}"
  }
  assert {
    condition     = keys(output.github_pacing.functions) == ["scale-down", "scale-up", "spot-interruption"] && output.github_pacing.spend == 292 * 2 + 90 + 45
    error_message = "only scale-up, scale-down and spot-interruption call GitHub: ${jsonencode(output.github_pacing)}"
  }
}

# A smaller budget (other tools share the App, or a GitHub Enterprise Server with a lower
# limit) shrinks every part alike.
run "smaller_budget" {
  command = plan
  variables {
    github_points_per_minute = 360
    scale_up                 = { maximum_concurrency = 2 }
  }

  assert {
    condition = local.github_points_per_minute == {
      "scale-up" = 123, "scale-down" = 37, cleanup = 18, pool = 10, redeliver = 360, syncer = 18, "spot-interruption" = 18
    }
    error_message = "per-container points ${jsonencode(local.github_points_per_minute)}"
  }
}

# So many scale-up containers that each one's part falls under the 10 points internal/config
# accepts: each gets 10, and the output says the parts exceed the budget.
run "too_many_containers_is_reported" {
  command = plan
  variables {
    scale_up = { maximum_concurrency = 120 }
  }

  assert {
    condition     = local.github_containers["scale-up"] == 120 && local.github_share["scale-up"] == 4 && output.github_pacing.functions["scale-up"].points_per_minute == 10
    error_message = "scale-up: ${local.github_containers["scale-up"]} containers, share ${local.github_share["scale-up"]}, given ${output.github_pacing.functions["scale-up"].points_per_minute}"
  }
  assert {
    condition     = output.github_pacing.over_budget && output.github_pacing.spend == 1200 + 75 + 37 * 2 + 37 + 37
    error_message = "over budget: ${jsonencode(output.github_pacing)}"
  }
}

run "budget_over_githubs_limit" {
  command = plan
  variables {
    github_points_per_minute = 901
  }
  expect_failures = [var.github_points_per_minute]
}

# Several Apps (github_apps): each App's budget is split over the same functions and
# containers as the webhook App's, into GITHUB_APPS; an App given as values is read from
# /<prefix>/app/<n>/, one given by name from that parameter. Redeliver and the syncer use the
# webhook App alone and get no GITHUB_APPS; with no other App nobody does.
run "several_apps" {
  command = plan
  variables {
    github_apps = [
      { id = "2001", key = "fixture-key-2" },
      { id_parameter = "/shared/app3/id", key_parameter = "/shared/app3/key", points_per_minute = 360 },
    ]
  }

  assert {
    condition = local.github_apps_points == [
      { "scale-up" = 246, "scale-down" = 75, cleanup = 37, pool = 10, syncer = 37, "spot-interruption" = 37 },
      { "scale-up" = 123, "scale-down" = 37, cleanup = 18, pool = 10, syncer = 18, "spot-interruption" = 18 },
    ]
    error_message = "per-App per-container points ${jsonencode(local.github_apps_points)}"
  }
  assert {
    condition = jsondecode(local.deployment.functions["scale-up"].environment.GITHUB_APPS) == [
      { id_parameter = "/ghr-test/app/2/id", key_parameter = "/ghr-test/app/2/key", points_per_minute = 246 },
      { id_parameter = "/shared/app3/id", key_parameter = "/shared/app3/key", points_per_minute = 123 },
    ]
    error_message = "scale-up's GITHUB_APPS ${local.deployment.functions["scale-up"].environment.GITHUB_APPS}"
  }
  assert {
    condition     = !contains(keys(local.deployment.functions["redeliver"].environment), "GITHUB_APPS") && !contains(keys(local.deployment.functions["syncer"].environment), "GITHUB_APPS") && local.deployment.functions["scale-down"].environment.GITHUB_POINTS_PER_MINUTE == "75"
    error_message = "redeliver and the syncer use the webhook App alone; scale-down keeps its share of the webhook App"
  }
  assert {
    condition     = toset(keys(module.secrets.app_credentials.additional[0].parameters)) == toset(["id", "key"]) && module.secrets.app_credentials.additional[1].parameters.key == "/shared/app3/key"
    error_message = "the other Apps' credentials ${jsonencode(module.secrets.app_credentials.additional)}"
  }
}

run "one_app_has_no_github_apps" {
  command = plan

  assert {
    condition     = alltrue([for fn, f in local.deployment.functions : !contains(keys(f.environment), "GITHUB_APPS")])
    error_message = "GITHUB_APPS set without github_apps"
  }
}
