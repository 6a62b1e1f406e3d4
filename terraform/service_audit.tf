# Audit: audit-events appended to the per-tenant and platform-wide Merkle
# logs (functions/audit); signed bundles are archived to the locked audit
# bucket (SYNTHOS_AUDIT_BUCKET) with checkpoints signed by the KMS key in
# kms.tf. It publishes nothing, so auditing cannot loop.

resource "google_service_account" "audit" {
  account_id   = "synthos-audit"
  display_name = "Synthos Audit function"
  depends_on   = [google_project_service.services]
}

resource "google_storage_bucket_iam_member" "audit_audit_archive_creator" {
  bucket = google_storage_bucket.audit_archive.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.audit.email}"
}

resource "google_storage_bucket_iam_member" "audit_audit_archive_viewer" {
  bucket = google_storage_bucket.audit_archive.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.audit.email}"
}

resource "google_cloudfunctions2_function" "audit" {
  name     = "synthos-audit"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Audit"
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
    service_account_email          = google_service_account.audit.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 60
    max_instance_count             = 10

    environment_variables = merge(local.function_env, local.push_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.audit_archive.name}"
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.audit
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "audit_invoker" {
  location = google_cloudfunctions2_function.audit.location
  name     = google_cloudfunctions2_function.audit.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# audit-events -> Audit: pushed with an OIDC token, retried with backoff,
# dead-lettered after var.max_delivery_attempts.
resource "google_pubsub_subscription" "audit" {
  name                       = "audit-events-audit"
  topic                      = google_pubsub_topic.topic["audit-events"].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.audit.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.audit
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["audit-events"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.audit_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
