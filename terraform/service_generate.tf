# Generate: profile, fit and sample a job's table, one shard per message
# (functions/generate). Publishes shards back to generate-requests, finished
# work to privacy-checks.

resource "google_service_account" "generate" {
  account_id   = "synthos-generate"
  display_name = "Synthos Generate function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "generate_publish_generate_requests" {
  topic  = google_pubsub_topic.topic["generate-requests"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate.email}"
}

resource "google_pubsub_topic_iam_member" "generate_publish_privacy_checks" {
  topic  = google_pubsub_topic.topic["privacy-checks"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate.email}"
}

resource "google_pubsub_topic_iam_member" "generate_publish_job_events" {
  topic  = google_pubsub_topic.topic["job-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate.email}"
}

resource "google_pubsub_topic_iam_member" "generate_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate.email}"
}

# Reads datasets; writes the train/holdout split, the model, parts and the
# output; deletes composed parts. All in the data bucket.
resource "google_storage_bucket_iam_member" "generate_data_admin" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.generate.email}"
}

resource "google_cloudfunctions2_function" "generate" {
  name     = "synthos-generate"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Generate"
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
    service_account_email          = google_service_account.generate.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "2Gi"
    available_cpu                  = "1"
    timeout_seconds                = 540
    # One shard per instance at a time (sampling is CPU-bound and holds a
    # shard's model and buffers), so the instance count bounds how many
    # shards the platform samples at once.
    max_instance_count               = var.generate_max_instances
    max_instance_request_concurrency = 1

    environment_variables = merge(local.function_env, local.push_env, local.ai_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS  = local.zone_buckets_env
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.generate
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "generate_invoker" {
  location = google_cloudfunctions2_function.generate.location
  name     = google_cloudfunctions2_function.generate.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# generate-requests -> Generate: pushed with an OIDC token, retried with backoff,
# dead-lettered after var.max_delivery_attempts.
resource "google_pubsub_subscription" "generate" {
  name                       = "generate-requests-generate"
  topic                      = google_pubsub_topic.topic["generate-requests"].id
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.generate.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.generate
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["generate-requests"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.generate_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
