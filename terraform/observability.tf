# Observability beyond the function alerts of monitoring.tf: notification
# channels from variables, SLOs with multi-window burn-rate alerts, alerts on
# the platform's own metrics (shared/metrics exports them to Cloud Monitoring
# as workload.googleapis.com/synthos_*; SYNTHOS_METRICS=gcp in functions.tf),
# a dashboard, and the BigQuery export of job events.

# ---- notification channels --------------------------------------------------

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  display_name = "Synthos alerts: ${each.value}"
  type         = "email"
  labels       = { email_address = each.value }
}

resource "google_monitoring_notification_channel" "slack" {
  count        = var.alert_slack_channel == "" ? 0 : 1
  display_name = "Synthos alerts: Slack ${var.alert_slack_channel}"
  type         = "slack"
  labels       = { channel_name = var.alert_slack_channel }
  sensitive_labels {
    auth_token = var.alert_slack_token
  }
}

resource "google_monitoring_notification_channel" "pagerduty" {
  count        = var.alert_pagerduty_service_key == "" ? 0 : 1
  display_name = "Synthos alerts: PagerDuty"
  type         = "pagerduty"
  sensitive_labels {
    service_key = var.alert_pagerduty_service_key
  }
}

resource "google_monitoring_notification_channel" "webhook" {
  count        = var.alert_webhook_url == "" ? 0 : 1
  display_name = "Synthos alerts: webhook"
  type         = "webhook_tokenauth"
  labels       = { url = var.alert_webhook_url }
}

locals {
  # Every alert policy notifies these: channels made elsewhere
  # (var.notification_channels) and the ones above.
  alert_channels = concat(
    var.notification_channels,
    [for c in google_monitoring_notification_channel.email : c.id],
    google_monitoring_notification_channel.slack[*].id,
    google_monitoring_notification_channel.pagerduty[*].id,
    google_monitoring_notification_channel.webhook[*].id,
  )
  api_service_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.api.name}\""
}

# ---- SLOs -------------------------------------------------------------------

resource "google_monitoring_custom_service" "synthos" {
  service_id   = "synthos"
  display_name = "Synthos"
}

# API availability: requests not answered 5xx (Cloud Run's request count of
# the API's service).
resource "google_monitoring_slo" "api_availability" {
  service             = google_monitoring_custom_service.synthos.service_id
  slo_id              = "api-availability"
  display_name        = "API availability"
  goal                = var.slo_availability
  rolling_period_days = 28
  request_based_sli {
    good_total_ratio {
      bad_service_filter   = "${local.api_service_filter} AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      total_service_filter = "${local.api_service_filter} AND metric.type = \"run.googleapis.com/request_count\""
    }
  }
}

# API latency: requests answered within var.slo_latency_ms.
resource "google_monitoring_slo" "api_latency" {
  service             = google_monitoring_custom_service.synthos.service_id
  slo_id              = "api-latency"
  display_name        = "API latency under ${var.slo_latency_ms} ms"
  goal                = var.slo_latency_goal
  rolling_period_days = 28
  request_based_sli {
    distribution_cut {
      distribution_filter = "${local.api_service_filter} AND metric.type = \"run.googleapis.com/request_latencies\""
      range {
        min = 0
        max = var.slo_latency_ms
      }
    }
  }
}

# Job success: jobs that finish succeeded rather than failed (our
# synthos_jobs counter, by state; cancelled jobs count neither way).
resource "google_monitoring_slo" "job_success" {
  service             = google_monitoring_custom_service.synthos.service_id
  slo_id              = "job-success"
  display_name        = "Job success"
  goal                = var.slo_job_success
  rolling_period_days = 28
  request_based_sli {
    good_total_ratio {
      good_service_filter = "metric.type = \"workload.googleapis.com/synthos_jobs\" AND metric.labels.state = \"succeeded\""
      bad_service_filter  = "metric.type = \"workload.googleapis.com/synthos_jobs\" AND metric.labels.state = \"failed\""
    }
  }
}

locals {
  slos = {
    api_availability = google_monitoring_slo.api_availability.id
    api_latency      = google_monitoring_slo.api_latency.id
    job_success      = google_monitoring_slo.job_success.id
  }
  # Multi-window, multi-burn-rate alerts (the SRE workbook's): a fast burn
  # pages when 2% of a 28-day budget goes in an hour, a slow burn when 5%
  # goes in six hours; the short window stops the alert soon after the burn
  # stops.
  burn_windows = {
    fast = { long = "3600s", short = "300s", rate = 14.4 }
    slow = { long = "21600s", short = "1800s", rate = 6 }
  }
  burn_alerts = {
    for pair in setproduct(keys(local.slos), keys(local.burn_windows)) :
    "${pair[0]}_${pair[1]}" => { slo = pair[0], window = pair[1] }
  }
}

resource "google_monitoring_alert_policy" "slo_burn" {
  for_each              = local.burn_alerts
  display_name          = "Synthos: ${each.value.slo} SLO ${each.value.window} burn"
  combiner              = "AND"
  notification_channels = local.alert_channels
  conditions {
    display_name = "burn rate over ${local.burn_windows[each.value.window].rate} in ${local.burn_windows[each.value.window].long}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${local.slos[each.value.slo]}\", \"${local.burn_windows[each.value.window].long}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.burn_windows[each.value.window].rate
      duration        = "0s"
    }
  }
  conditions {
    display_name = "burn rate over ${local.burn_windows[each.value.window].rate} in ${local.burn_windows[each.value.window].short}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${local.slos[each.value.slo]}\", \"${local.burn_windows[each.value.window].short}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.burn_windows[each.value.window].rate
      duration        = "0s"
    }
  }
  documentation {
    content   = "The ${each.value.slo} SLO is burning its error budget ${local.burn_windows[each.value.window].rate}x faster than it can afford. See the Synthos dashboard."
    mime_type = "text/markdown"
  }
}

# ---- alerts on the platform's own metrics ------------------------------------

locals {
  metric_alerts = {
    stuck_jobs = {
      name      = "jobs found stuck past their lease"
      metric    = "workload.googleapis.com/synthos_jobs_reaped"
      threshold = 0
      doc       = "The reaper found jobs whose step stopped renewing its lease and resumed or failed them. Check the generate and privacy functions' logs around the job ids the reaper logged."
    }
    budget_pauses = {
      name      = "budget guard paused generation"
      metric    = "workload.googleapis.com/synthos_budget_guard_pauses"
      threshold = 0
      doc       = "Cloud Billing spend crossed the guard's threshold and new jobs are refused. Raise the budget or wait for the next billing period."
    }
    security_spike = {
      name      = "security events above ${var.alert_security_events_per_minute} a minute"
      metric    = "workload.googleapis.com/synthos_security_events"
      threshold = var.alert_security_events_per_minute / 60
      doc       = "Denied requests, refused push tokens, WAF blocks or bans are spiking. The audit log and the logs with security_event name the callers."
    }
    dead_lettered = {
      name      = "messages dead-lettered by a consumer"
      metric    = "workload.googleapis.com/synthos_pubsub_dead_letters"
      threshold = 0
      doc       = "A consumer gave up on a message. The dead-letter subscriptions hold it; the consumer's logs for its message id give the error."
    }
  }
}

resource "google_monitoring_alert_policy" "platform" {
  for_each              = local.metric_alerts
  display_name          = "Synthos: ${each.value.name}"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = each.value.name
    condition_threshold {
      filter          = "metric.type = \"${each.value.metric}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
  documentation {
    content   = each.value.doc
    mime_type = "text/markdown"
  }
}

# ---- dashboard ----------------------------------------------------------------

locals {
  dashboard_tiles = [
    { title = "API requests by route and status", filter = "metric.type = \"workload.googleapis.com/synthos_http_requests\"", aligner = "ALIGN_RATE", group = ["metric.label.route", "metric.label.status"] },
    { title = "API p95 latency by route", filter = "metric.type = \"workload.googleapis.com/synthos_http_request_duration\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group = ["metric.label.route"] },
    { title = "Jobs by state", filter = "metric.type = \"workload.googleapis.com/synthos_jobs\"", aligner = "ALIGN_RATE", group = ["metric.label.state"] },
    { title = "Rows generated by model", filter = "metric.type = \"workload.googleapis.com/synthos_rows_generated\"", aligner = "ALIGN_RATE", group = ["metric.label.model"] },
    { title = "Fit p95 seconds by model", filter = "metric.type = \"workload.googleapis.com/synthos_fit_duration\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group = ["metric.label.model"] },
    { title = "Pub/Sub handling p95 by subscription", filter = "metric.type = \"workload.googleapis.com/synthos_pubsub_handle_duration\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group = ["metric.label.subscription"] },
    { title = "Redeliveries and dead letters", filter = "metric.type = \"workload.googleapis.com/synthos_pubsub_redeliveries\"", aligner = "ALIGN_RATE", group = ["metric.label.subscription"] },
    { title = "Dead-letter backlog", filter = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\"", aligner = "ALIGN_MAX", group = ["resource.label.subscription_id"] },
    { title = "Epsilon spent by model", filter = "metric.type = \"workload.googleapis.com/synthos_dp_epsilon_spent\"", aligner = "ALIGN_RATE", group = ["metric.label.model"] },
    { title = "Webhook deliveries by outcome", filter = "metric.type = \"workload.googleapis.com/synthos_webhook_deliveries\"", aligner = "ALIGN_RATE", group = ["metric.label.outcome"] },
    { title = "Security events by kind", filter = "metric.type = \"workload.googleapis.com/synthos_security_events\"", aligner = "ALIGN_RATE", group = ["metric.label.kind"] },
    { title = "AI provider cost (USD) by provider", filter = "metric.type = \"workload.googleapis.com/synthos_ai_provider_cost\"", aligner = "ALIGN_RATE", group = ["metric.label.provider"] },
  ]
}

resource "google_monitoring_dashboard" "synthos" {
  dashboard_json = jsonencode({
    displayName = "Synthos pipeline"
    mosaicLayout = {
      columns = 12
      tiles = [for i, t in local.dashboard_tiles : {
        xPos   = (i % 3) * 4
        yPos   = floor(i / 3) * 4
        width  = 4
        height = 4
        widget = {
          title = t.title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = t.filter
                  aggregation = {
                    alignmentPeriod    = "60s"
                    perSeriesAligner   = t.aligner
                    crossSeriesReducer = lookup(t, "reducer", "REDUCE_SUM")
                    groupByFields      = t.group
                  }
                }
              }
            }]
          }
        }
      }]
    }
  })
}

# ---- BigQuery export of job events ----------------------------------------------
# Pub/Sub writes every job event into a BigQuery table (a BigQuery
# subscription: no code on the hot path), for warehouses and ad-hoc analysis.

resource "google_bigquery_dataset" "analytics" {
  count       = var.analytics_bigquery ? 1 : 0
  dataset_id  = "synthos_analytics"
  location    = var.bigquery_location
  description = "Synthos job events, written by a Pub/Sub BigQuery subscription on job-events."
  depends_on  = [google_project_service.services]
}

resource "google_bigquery_table" "job_events" {
  count               = var.analytics_bigquery ? 1 : 0
  dataset_id          = google_bigquery_dataset.analytics[0].dataset_id
  table_id            = "job_events"
  deletion_protection = true
  time_partitioning {
    type  = "DAY"
    field = "publish_time"
  }
  # The columns of a subscription that writes metadata without a topic
  # schema: the event JSON is in data, its attributes (tenant, job, type)
  # in attributes.
  schema = jsonencode([
    { name = "subscription_name", type = "STRING", mode = "NULLABLE" },
    { name = "message_id", type = "STRING", mode = "NULLABLE" },
    { name = "publish_time", type = "TIMESTAMP", mode = "NULLABLE" },
    { name = "data", type = "JSON", mode = "NULLABLE" },
    { name = "attributes", type = "JSON", mode = "NULLABLE" },
  ])
}

resource "google_bigquery_table_iam_member" "pubsub_writer" {
  count      = var.analytics_bigquery ? 1 : 0
  project    = var.project
  dataset_id = google_bigquery_dataset.analytics[0].dataset_id
  table_id   = google_bigquery_table.job_events[0].table_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_agent
}

resource "google_pubsub_subscription" "job_events_bigquery" {
  count = var.analytics_bigquery ? 1 : 0
  name  = "job-events-bigquery"
  topic = google_pubsub_topic.topic["job-events"].id
  bigquery_config {
    table          = "${var.project}.${google_bigquery_dataset.analytics[0].dataset_id}.${google_bigquery_table.job_events[0].table_id}"
    write_metadata = true
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["job-events"].id
    max_delivery_attempts = var.max_delivery_attempts
  }
  depends_on = [google_bigquery_table_iam_member.pubsub_writer]
}

# Spans go to Cloud Trace (SYNTHOS_TRACES=gcp).
resource "google_project_iam_member" "function_traces" {
  for_each = local.function_accounts
  project  = var.project
  role     = "roles/cloudtrace.agent"
  member   = "serviceAccount:${each.value}"
}
