output "webhook_url" {
  description = "URL to set as the GitHub App's webhook URL."
  value       = "${aws_apigatewayv2_stage.default.invoke_url}webhook"
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.webhook.id
}

output "functions" {
  description = "Deployed functions by short name (webhook, redeliver): name, arn, role_arn, policy_json."
  value = merge(
    { webhook = { name = module.webhook.function_name, arn = module.webhook.function_arn, role_arn = module.webhook.role_arn, policy_json = module.webhook.policy_json } },
    var.redeliver.enabled ? { redeliver = { name = module.redeliver[0].function_name, arn = module.redeliver[0].function_arn, role_arn = module.redeliver[0].role_arn, policy_json = module.redeliver[0].policy_json } } : {},
  )
}
