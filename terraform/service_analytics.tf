# Analytics: finished jobs on job-events are folded into each tenant's daily
# aggregates in Firestore (functions/tally, shared/analytics). It reads the
# jobs' evaluation reports (quality and privacy scores) from the data bucket.

resource "google_service_account" "analytics" {
  account_id   = "synthos-analytics"
  display_name = "Synthos Analytics function"
  depends_on   = [google_project_service.services]
}

resource "google_storage_bucket_iam_member" "analytics_data_viewer" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.analytics.email}"
}

resource "google_cloudfunctions2_function" "analytics" {
  name     = "synthos-analytics"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Analytics"
    # Builds run as synthos-build (functions.tf), not a default account.
    service_account = local.build_service_account
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = var.source_object
      }
    }
  }

  service_config {
    service_account_email          = google_service_account.analytics.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 120
    max_instance_count             = 20

    environment_variables = merge(local.function_env, local.push_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS  = local.zone_buckets_env
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.analytics
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "analytics_invoker" {
  location = google_cloudfunctions2_function.analytics.location
  name     = google_cloudfunctions2_function.analytics.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# job-events -> Analytics (beside Notify's subscription): pushed with an OIDC token, retried with backoff,
# dead-lettered after var.max_delivery_attempts.
resource "google_pubsub_subscription" "analytics" {
  name                       = "job-events-analytics"
  topic                      = google_pubsub_topic.topic["job-events"].id
  ack_deadline_seconds       = 180
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.analytics.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.analytics
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["job-events"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.analytics_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
