# Privacy: quality and privacy-risk evaluation, the release gate and the
# budget charge (functions/privacy). Quarantines outputs that fail, writes
# reports.

resource "google_service_account" "privacy" {
  account_id   = "synthos-privacy"
  display_name = "Synthos Privacy function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "privacy_publish_job_events" {
  topic  = google_pubsub_topic.topic["job-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.privacy.email}"
}

resource "google_pubsub_topic_iam_member" "privacy_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.privacy.email}"
}

# Reads the output and the train/holdout split, writes the reports, and moves
# an output that fails the gate to quarantine (copy, then delete). All in the
# data bucket.
resource "google_storage_bucket_iam_member" "privacy_data_admin" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.privacy.email}"
}

resource "google_cloudfunctions2_function" "privacy" {
  name     = "synthos-privacy"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Privacy"
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
    service_account_email          = google_service_account.privacy.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "2Gi"
    available_cpu                  = "1"
    timeout_seconds                = 540
    max_instance_count             = 20
    # One evaluation per instance: it is CPU-bound and holds the real and
    # synthetic samples in memory.
    max_instance_request_concurrency = 1

    environment_variables = merge(local.function_env, local.push_env, local.ai_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS  = local.zone_buckets_env
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.privacy
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "privacy_invoker" {
  location = google_cloudfunctions2_function.privacy.location
  name     = google_cloudfunctions2_function.privacy.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# privacy-checks -> Privacy: pushed with an OIDC token, retried with backoff,
# dead-lettered after var.max_delivery_attempts.
resource "google_pubsub_subscription" "privacy" {
  name                       = "privacy-checks-privacy"
  topic                      = google_pubsub_topic.topic["privacy-checks"].id
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.privacy.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.privacy
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["privacy-checks"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.privacy_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
