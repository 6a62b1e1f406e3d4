# Ingest: an object finalized in the uploads bucket becomes a dataset and a
# job (functions/ingest), through an Eventarc trigger.

resource "google_service_account" "ingest" {
  account_id   = "synthos-ingest"
  display_name = "Synthos Ingest function"
  depends_on   = [google_project_service.services]
}

resource "google_pubsub_topic_iam_member" "ingest_publish_generate_requests" {
  topic  = google_pubsub_topic.topic["generate-requests"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

resource "google_pubsub_topic_iam_member" "ingest_publish_audit_events" {
  topic  = google_pubsub_topic.topic["audit-events"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

# Reads the uploaded file from the uploads bucket (opened by the event's
# bucket name, not SYNTHOS_OBJECTS_URL)...
resource "google_storage_bucket_iam_member" "ingest_uploads_viewer" {
  bucket = google_storage_bucket.uploads.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

# ...and copies it into the data bucket at the dataset's key. Creating is
# all it writes; viewer is for the existence check that makes a redelivered
# event skip the copy, and for the readiness probe. No delete: it never
# replaces or removes an object (keys are unique per upload generation).
resource "google_storage_bucket_iam_member" "ingest_data_creator" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

resource "google_storage_bucket_iam_member" "ingest_data_viewer" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

resource "google_cloudfunctions2_function" "ingest" {
  name     = "synthos-ingest"
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = "Ingest"
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
    service_account_email          = google_service_account.ingest.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = "512M"
    timeout_seconds                = 540 # copies and validates uploads up to 5 GiB; Eventarc's maximum
    max_instance_count             = 20

    environment_variables = merge(local.function_env, {
      SYNTHOS_OBJECTS_URL  = "gs://${google_storage_bucket.data.name}"
      SYNTHOS_ZONE_BUCKETS = local.zone_buckets_env
    })
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.ingest_trigger.email
    event_filters {
      attribute = "bucket"
      value     = google_storage_bucket.uploads.name
    }
  }

  depends_on = [
    google_project_service.services,
    google_project_iam_member.build,
    google_project_iam_member.function_datastore,
    google_project_iam_member.gcs_agent_publisher,
    google_project_iam_member.ingest_trigger_receiver,
    google_service_account_iam_member.pubsub_agent_token_creator,
    terraform_data.api_propagation, # Eventarc's service agent (services.tf)
  ]
}

# The trigger's identity: receives events from Eventarc and invokes the
# function, nothing else.
resource "google_service_account" "ingest_trigger" {
  account_id   = "synthos-ingest-trigger"
  display_name = "Synthos Ingest upload trigger"
  depends_on   = [google_project_service.services]
}

resource "google_project_iam_member" "ingest_trigger_receiver" {
  project = var.project
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.ingest_trigger.email}"
}

resource "google_cloud_run_v2_service_iam_member" "ingest_trigger_invoker" {
  location = google_cloudfunctions2_function.ingest.location
  name     = google_cloudfunctions2_function.ingest.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.ingest_trigger.email}"
}

# Cloud Storage's service agent publishes the bucket's notifications to the
# Pub/Sub topic Eventarc creates for the trigger.
data "google_storage_project_service_account" "gcs_agent" {}

resource "google_project_iam_member" "gcs_agent_publisher" {
  project = var.project
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs_agent.email_address}"
}
