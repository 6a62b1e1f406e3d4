# APIs the platform uses.
locals {
  services = [
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "firestore.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "iamcredentials.googleapis.com", # signBlob, for the API's signed URLs
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "cloudtrace.googleapis.com",
    "bigquery.googleapis.com",             # the job-events export (observability.tf)
    "cloudscheduler.googleapis.com",       # the reaper's tick
    "iam.googleapis.com",                  # service accounts and their IAM policies
    "cloudresourcemanager.googleapis.com", # project IAM bindings
    "cloudkms.googleapis.com",             # tenants' key-encryption key, audit checkpoint signing
    "aiplatform.googleapis.com",           # Gemini and Claude on Vertex AI (ai.tf)
  ]
}

resource "google_project_service" "services" {
  for_each           = toset(local.services)
  service            = each.value
  disable_on_destroy = false
}

# Service agents (Eventarc's, Pub/Sub's, Cloud Build's) are created when their
# API is enabled, and their roles take a while to propagate: an Eventarc
# trigger created right after enabling eventarc.googleapis.com can fail with
# "Permission denied while using the Eventarc Service Agent". Without the
# hashicorp/time provider (time_sleep), this built-in resource waits
# var.api_propagation_wait_seconds once, after the APIs are first enabled (and
# again only when the list of APIs changes); the upload trigger and the
# functions wait for it. If an apply still fails with that message, wait a few
# minutes and run the same apply again: it is idempotent.
resource "terraform_data" "api_propagation" {
  triggers_replace = sort(concat(local.services, keys(google_project_service.billing)))
  provisioner "local-exec" {
    command = "sleep ${var.api_propagation_wait_seconds}"
  }
  depends_on = [google_project_service.services, google_project_service.billing]
}
