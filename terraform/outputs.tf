output "api_url" {
  description = "HTTPS endpoint of the API function."
  value       = google_cloudfunctions2_function.api.service_config[0].uri
}

output "billing_webhook_url" {
  description = "Endpoint to register with Paddle and Stripe."
  value       = google_cloudfunctions2_function.billing.service_config[0].uri
}

output "buckets" {
  description = "Bucket names by purpose."
  value = {
    source        = google_storage_bucket.source.name
    uploads       = google_storage_bucket.uploads.name
    data          = google_storage_bucket.data.name
    audit_archive = google_storage_bucket.audit_archive.name
  }
}

output "topics" {
  description = "Topic ids by name."
  value       = { for k, t in google_pubsub_topic.topic : k => t.id }
}

output "service_accounts" {
  description = "Each function's service account."
  value       = local.function_accounts
}

output "edge_address" {
  description = "The load balancer's address (point edge_domain's A record here); null without edge_load_balancer."
  value       = var.edge_load_balancer ? google_compute_global_address.api[0].address : null
}
