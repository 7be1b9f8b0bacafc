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
    { webhook = module.webhook.summary },
    var.redeliver.enabled ? { redeliver = module.redeliver[0].summary } : {},
  )
}
