# Subscriptions: billing-events update plan and quota state
# (functions/subscriptions).
#
# It stores no objects; SYNTHOS_OBJECTS_URL names the source bucket, which
# holds only the code it runs, because every instance opens and probes an
# object store (shared/platform).

resource "google_service_account" "subscriptions" {
  account_id   = "synthos-subscriptions"
  display_name = "Synthos Subscriptions function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "subscriptions_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.subscriptions.email}"
}

resource "google_storage_bucket_iam_member" "subscriptions_source_viewer" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.subscriptions.email}"
}

resource "google_cloudfunctions2_function" "subscriptions" {
  name     = "synthos-subscriptions"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Subscriptions"
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
    service_account_email          = google_service_account.subscriptions.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 60
    max_instance_count             = 10

    environment_variables = merge(local.function_env, local.push_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.source.name}"
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.subscriptions
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "subscriptions_invoker" {
  location = google_cloudfunctions2_function.subscriptions.location
  name     = google_cloudfunctions2_function.subscriptions.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# billing-events -> Subscriptions: pushed with an OIDC token, retried with backoff,
# dead-lettered after var.max_delivery_attempts.
resource "google_pubsub_subscription" "subscriptions" {
  name                       = "billing-events-subscriptions"
  topic                      = google_pubsub_topic.topic["billing-events"].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.subscriptions.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.subscriptions
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["billing-events"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.subscriptions_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
