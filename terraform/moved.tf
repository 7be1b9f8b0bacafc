# Where resources moved, so that `terraform apply` of a deployment made with an older version
# of the module moves them in its state instead of destroying and re-creating them
# (internal/harness/tfmodule's TestUpgradeKeepsResources plans such an upgrade and fails on any
# replacement). Keep these blocks: a deployment may skip versions.

# The dist bucket, which holds every function's code, moved from the syncer module to the root.
moved {
  from = module.syncer.aws_s3_bucket.dist
  to   = aws_s3_bucket.dist
}

moved {
  from = module.syncer.aws_s3_bucket_ownership_controls.dist
  to   = aws_s3_bucket_ownership_controls.dist
}

moved {
  from = module.syncer.aws_s3_bucket_public_access_block.dist
  to   = aws_s3_bucket_public_access_block.dist
}

moved {
  from = module.syncer.aws_s3_bucket_versioning.dist
  to   = aws_s3_bucket_versioning.dist
}

moved {
  from = module.syncer.aws_s3_bucket_server_side_encryption_configuration.dist
  to   = aws_s3_bucket_server_side_encryption_configuration.dist
}

moved {
  from = module.syncer.aws_s3_bucket_lifecycle_configuration.dist
  to   = aws_s3_bucket_lifecycle_configuration.dist
}

moved {
  from = module.syncer.aws_s3_bucket_logging.dist
  to   = aws_s3_bucket_logging.dist
}

moved {
  from = module.syncer.aws_s3_bucket_policy.dist
  to   = aws_s3_bucket_policy.dist
}
