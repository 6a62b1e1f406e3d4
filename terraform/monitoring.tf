# Alert policies. Gen2 functions run as Cloud Run services, so their request
# metrics are Cloud Run's, labelled with the service name. Notifications go
# to var.notification_channels (create channels in the console or in a
# separate configuration and pass their ids).
locals {
  # Every function (the plan test checks none is missing).
  function_services = [
    google_cloudfunctions2_function.api.name,
    google_cloudfunctions2_function.billing.name,
    google_cloudfunctions2_function.ingest.name,
    google_cloudfunctions2_function.generate.name,
    google_cloudfunctions2_function.privacy.name,
    google_cloudfunctions2_function.notify.name,
    google_cloudfunctions2_function.analytics.name,
    google_cloudfunctions2_function.audit.name,
    google_cloudfunctions2_function.subscriptions.name,
    google_cloudfunctions2_function.guard.name,
    google_cloudfunctions2_function.generate_dead_letter.name,
    google_cloudfunctions2_function.privacy_dead_letter.name,
    google_cloudfunctions2_function.reap.name,
  ]
  function_service_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = one_of(${join(", ", [for s in local.function_services : "\"${s}\""])})"
}

# A function answers more than var.alert_error_ratio of its requests with 5xx.
# For push functions that is failed deliveries Pub/Sub will retry.
resource "google_monitoring_alert_policy" "function_errors" {
  display_name          = "Synthos: function error rate"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "5xx share above ${var.alert_error_ratio}"
    condition_threshold {
      filter             = "${local.function_service_filter} AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "${local.function_service_filter} AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_error_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }
  documentation {
    content   = "A Synthos function is failing requests. Check its logs (severity>=ERROR) for the cause; push deliveries that keep failing end in the topic's dead-letter subscription."
    mime_type = "text/markdown"
  }
}

# A function's 99th percentile latency is above var.alert_latency_ms.
resource "google_monitoring_alert_policy" "function_latency" {
  display_name          = "Synthos: function latency"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "p99 latency above ${var.alert_latency_ms} ms"
    condition_threshold {
      filter          = "${local.function_service_filter} AND metric.type = \"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_latency_ms
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }
  documentation {
    content   = "A Synthos function is slow. Generate and Privacy scale with table size; others should answer in seconds."
    mime_type = "text/markdown"
  }
}

# Any message waiting in a dead-letter subscription: a consumer gave up on it
# after var.max_delivery_attempts.
resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "Synthos: dead-lettered messages"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "undelivered messages in a dead-letter subscription"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = one_of(${join(", ", [for t in local.topics : "\"${google_pubsub_subscription.dead_letter[t].name}\""])}) AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.subscription_id"]
      }
    }
  }
  documentation {
    content   = "Messages were dead-lettered. Pull them from the named subscription to see the payload; the consumer's logs for that message id give the error. Fix, then republish to the source topic."
    mime_type = "text/markdown"
  }
}
