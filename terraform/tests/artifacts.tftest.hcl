# Where the function zips come from: local files (lambda_dist_dir / lambda_zip_paths, e.g. from
# `make dist` or `ghr lambdas fetch`) or S3 (lambda_s3). A missing zip fails the plan once,
# saying how to get the zips. internal/harness/tfmodule applies each source against moto_server.

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
  runner_configs = { small = { labels = ["self-hosted", "linux", "x64"], instance_types = ["m7i.large"] } }
}

run "fails_at_plan_without_the_zips" {
  command = plan
  variables {
    lambda_dist_dir = "tests/fixtures/no-such-dir"
  }
  expect_failures = [terraform_data.function_zips]
}

run "plans_from_a_directory" {
  command = plan
  variables {
    lambda_dist_dir = "tests/fixtures/zips"
  }
  assert {
    condition     = terraform_data.function_zips.input == "local"
    error_message = "a directory with every zip should deploy from local files"
  }
}

run "plans_from_s3_without_local_files" {
  command = plan
  variables {
    lambda_dist_dir = "tests/fixtures/no-such-dir"
    lambda_s3 = {
      bucket          = "ghr-artifacts"
      key_prefix      = "ghr/1.4.0/"
      object_versions = { webhook = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" }
    }
  }
  assert {
    condition     = terraform_data.function_zips.input == "s3"
    error_message = "lambda_s3 should deploy from S3 and need no local zips"
  }
}

run "rejects_s3_keys_of_unknown_functions" {
  command = plan
  variables {
    lambda_s3 = { bucket = "ghr-artifacts", keys = { webhok = "webhook.zip" } }
  }
  expect_failures = [var.lambda_s3]
}
