# Billing: Paddle and Stripe webhooks (functions/billingwebhooks). Verifies the
# providers' signatures itself, so it is invocable by anyone when
# var.public_http is set.
#
# It stores no objects; SYNTHOS_OBJECTS_URL names the source bucket, which
# holds only the code it runs, because every instance opens and probes an
# object store (shared/platform).

# Its service account, google_service_account.billing, and its access to
# the provider secrets are declared in billing.tf.

resource "google_pubsub_topic_iam_member" "billing_publish_billing_events" {
  topic  = google_pubsub_topic.topic["billing-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.billing.email}"
}

resource "google_pubsub_topic_iam_member" "billing_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.billing.email}"
}

resource "google_storage_bucket_iam_member" "billing_source_viewer" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.billing.email}"
}

resource "google_cloudfunctions2_function" "billing" {
  name     = "synthos-billing"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Billing"
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
    service_account_email          = google_service_account.billing.email
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 60
    max_instance_count             = 20

    environment_variables = merge(local.function_env, {
      SYNTHOS_OBJECTS_URL = "gs://${google_storage_bucket.source.name}"
    })

    vpc_connector                 = var.redis_enabled ? google_vpc_access_connector.functions[0].id : null
    vpc_connector_egress_settings = var.redis_enabled ? "PRIVATE_RANGES_ONLY" : null
    dynamic "secret_environment_variables" {
      for_each = var.redis_enabled ? [1] : []
      content {
        key        = "SYNTHOS_REDIS_URL"
        project_id = var.project
        secret     = google_secret_manager_secret.redis_url[0].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

resource "google_cloud_run_v2_service_iam_member" "billing_public" {
  count    = var.public_http ? 1 : 0
  location = google_cloudfunctions2_function.billing.location
  name     = google_cloudfunctions2_function.billing.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
