# Reap: resumes jobs whose step lease ran out, fails those resumed too
# often, and settles finished jobs a crash left unsettled (functions/reap,
# shared/pipeline/lease.go). Cloud Scheduler publishes a tick to
# reaper-ticks every minute; the push subscription delivers it.

resource "google_service_account" "reap" {
  account_id   = "synthos-reap"
  display_name = "Synthos Reap function"
  depends_on   = [google_project_service.services]
}

# A resumed job's step is published again; a failed one is announced.
resource "google_pubsub_topic_iam_member" "reap_publish" {
  for_each = toset(["generate-requests", "privacy-checks", "job-events", "audit-events"])
  topic    = google_pubsub_topic.topic[each.value].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.reap.email}"
}

# Settling a dp job looks for its model and removes an unpaid one.
resource "google_storage_bucket_iam_member" "reap_data_admin" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.reap.email}"
}

resource "google_cloudfunctions2_function" "reap" {
  name     = "synthos-reap"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Reap"
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
    service_account_email          = google_service_account.reap.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 120
    # One pass at a time is enough; overlapping passes are harmless.
    max_instance_count = 1

    environment_variables = merge(local.function_env, local.push_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS  = local.zone_buckets_env
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.reap
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "reap_invoker" {
  location = google_cloudfunctions2_function.reap.location
  name     = google_cloudfunctions2_function.reap.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# reaper-ticks -> Reap: pushed with an OIDC token. A tick that fails is
# not worth retrying for long: the next one comes within a minute.
resource "google_pubsub_subscription" "reap" {
  name                       = "reaper-ticks-reap"
  topic                      = google_pubsub_topic.topic["reaper-ticks"].id
  ack_deadline_seconds       = 120
  message_retention_duration = "600s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.reap.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.reap
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["reaper-ticks"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.reap_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}

# The tick: every minute, a message on reaper-ticks. Cloud Scheduler
# publishes as its service agent, which Pub/Sub lets publish to topics of
# the project.
resource "google_cloud_scheduler_job" "reap" {
  name        = "synthos-reap"
  region      = var.region
  description = "Resume Synthos jobs whose lease ran out (functions/reap)"
  schedule    = "* * * * *"
  time_zone   = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.topic["reaper-ticks"].id
    data       = base64encode("{\"tick\":true}")
  }

  depends_on = [google_project_service.services]
}
