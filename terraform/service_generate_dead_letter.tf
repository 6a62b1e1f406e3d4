# GenerateDeadLetter: a generate-requests message Pub/Sub gave up on marks its
# job failed, so no job stays running behind a poison message
# (functions/deadletter). It reads the dead-letter topic through its own push
# subscription; the pull subscription in pubsub.tf keeps a copy for
# inspection.
#
# It stores no objects; SYNTHOS_OBJECTS_URL names the source bucket, which
# holds only the code it runs, because every instance opens and probes an
# object store (shared/platform).

resource "google_service_account" "generate_dead_letter" {
  account_id   = "synthos-generate-dl"
  display_name = "Synthos GenerateDeadLetter function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "generate_dead_letter_publish_job_events" {
  topic  = google_pubsub_topic.topic["job-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate_dead_letter.email}"
}

resource "google_pubsub_topic_iam_member" "generate_dead_letter_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.generate_dead_letter.email}"
}

resource "google_storage_bucket_iam_member" "generate_dead_letter_source_viewer" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.generate_dead_letter.email}"
}

resource "google_cloudfunctions2_function" "generate_dead_letter" {
  name     = "synthos-generate-dead-letter"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "GenerateDeadLetter"
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
    service_account_email          = google_service_account.generate_dead_letter.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "256M"
    timeout_seconds                = 60
    max_instance_count             = 5

    environment_variables = merge(local.function_env, local.push_env, {
      SYNTHOS_OBJECTS_URL   = "gs://${google_storage_bucket.source.name}"
      SYNTHOS_PUSH_AUDIENCE = local.push_audience.generate_dead_letter
    })
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
  ]
}

# The push subscription may invoke this function and no other.
resource "google_cloud_run_v2_service_iam_member" "generate_dead_letter_invoker" {
  location = google_cloudfunctions2_function.generate_dead_letter.location
  name     = google_cloudfunctions2_function.generate_dead_letter.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# generate-requests-dead-letter -> GenerateDeadLetter: pushed with an OIDC token and retried with
# backoff. It has no dead-letter policy of its own: a message it cannot
# record stays here, retried, until the retention ends, and the copy in the
# pull subscription keeps the dead-letter alert firing.
resource "google_pubsub_subscription" "generate_dead_letter" {
  name                       = "generate-requests-dead-letter-push"
  topic                      = google_pubsub_topic.dead_letter["generate-requests"].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.generate_dead_letter.service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.push_audience.generate_dead_letter
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.generate_dead_letter_invoker,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}
