# API: the public HTTPS API (functions/api). Authenticates every request with
# an API key, so it is invocable by anyone when var.public_http is set.

resource "google_service_account" "api" {
  account_id   = "synthos-api"
  display_name = "Synthos API function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "api_publish_generate_requests" {
  topic  = google_pubsub_topic.topic["generate-requests"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.api.email}"
}

resource "google_pubsub_topic_iam_member" "api_publish_job_events" {
  topic  = google_pubsub_topic.topic["job-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.api.email}"
}

resource "google_pubsub_topic_iam_member" "api_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.api.email}"
}

resource "google_secret_manager_secret_iam_member" "api_api_key_pepper" {
  secret_id = google_secret_manager_secret.api_key_pepper.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.api.email}"
}

resource "google_secret_manager_secret_iam_member" "api_webhook_secret_key" {
  secret_id = google_secret_manager_secret.webhook_secret_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.api.email}"
}

# Direct uploads, reads, and the signed PUT/GET URLs it hands out, all in
# the data bucket.
resource "google_storage_bucket_iam_member" "api_data_admin" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.api.email}"
}

# V4 signed URLs without a key file: the storage client signs through the
# IAM Credentials API (signBlob) as the function's own account, which needs
# token creator on itself, and on no other account.
resource "google_service_account_iam_member" "api_self_signer" {
  service_account_id = google_service_account.api.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.api.email}"
}

resource "google_cloudfunctions2_function" "api" {
  name     = "synthos-api"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "API"
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
    service_account_email = google_service_account.api.email
    # Behind the load balancer, only it (and internal traffic) may call:
    # Cloud Armor cannot be bypassed through the function's own URL.
    ingress_settings               = var.edge_load_balancer ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    available_memory               = "512M"
    # POST /v1/datasets/{id}/complete reads the whole table once to
    # validate it (up to SYNTHOS_MAX_UPLOAD_BYTES, 5 GiB: a few minutes);
    # other requests take milliseconds.
    timeout_seconds    = 900
    max_instance_count = 50

    environment_variables = merge(local.function_env, local.ai_env, {
      SYNTHOS_OBJECTS_URL     = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS    = local.zone_buckets_env
      SYNTHOS_TRUSTED_PROXIES = var.edge_load_balancer ? "2" : "1"
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

resource "google_cloud_run_v2_service_iam_member" "api_public" {
  count    = var.public_http ? 1 : 0
  location = google_cloudfunctions2_function.api.location
  name     = google_cloudfunctions2_function.api.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
