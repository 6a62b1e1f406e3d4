# Secret Manager secrets the functions read by name (shared/secrets). Only
# the secrets are declared here; their values are added out of band so they
# never enter the Terraform state:
#
#   head -c 48 /dev/urandom | gcloud secrets versions add api-key-pepper --data-file=-
#   head -c 48 /dev/urandom | gcloud secrets versions add webhook-secret-key --data-file=-
#
# Each function's service account may read only the secrets it uses
# (granted in its service_<name>.tf).

# HMAC pepper of stored API key hashes (shared/apikeys).
resource "google_secret_manager_secret" "api_key_pepper" {
  secret_id = "api-key-pepper"
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

# Key that encrypts customers' webhook signing secrets at rest
# (shared/webhooks.KeySecret).
resource "google_secret_manager_secret" "webhook_secret_key" {
  secret_id = "webhook-secret-key"
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

# Readiness probe target: every function's /readyz reads this secret, which
# has no version, and takes "not found" as proof that Secret Manager answers.
# Reading it needs the accessor role; without it the probe would see
# "permission denied" and report the function unready.
resource "google_secret_manager_secret" "healthz_probe" {
  secret_id = "healthz-probe"
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}
