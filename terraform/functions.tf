# What every function shares: the runtime, the production configuration
# (shared/config; a Go test checks each function sets what the code needs),
# and the permissions every instance uses for its readiness checks: the
# state store, the topic existence check over all topics, the secrets probe,
# and metrics. Each function's own permissions, on exact resources, are in
# its service_<name>.tf.
locals {
  runtime = "go126"

  # Every function is built by Cloud Build as this account (build_config.
  # service_account): projects created since mid-2024 may otherwise build as
  # a default account that lacks roles/cloudbuild.builds.builder.
  build_service_account = google_service_account.build.id

  function_env = {
    SYNTHOS_STATE_URL    = "firestore://${var.project}"
    SYNTHOS_EVENTS       = "pubsub"
    SYNTHOS_SECRETS_URL  = "gcpsecretmanager://${var.project}"
    GOOGLE_CLOUD_PROJECT = var.project
    SYNTHOS_LOG_LEVEL    = var.log_level
    # Tenants' keysets are wrapped by Cloud KMS; audit checkpoints are
    # signed by KMS and bundles archived to the locked bucket (kms.tf,
    # storage.tf). The same values everywhere: only the functions that
    # need a key are granted it.
    SYNTHOS_KEK_URI       = local.kek_uri
    SYNTHOS_AUDIT_KMS_KEY = local.audit_kms_key
    SYNTHOS_AUDIT_BUCKET  = "gs://${google_storage_bucket.audit_archive.name}"
    SYNTHOS_METRICS       = "gcp" # Cloud Monitoring (observability.tf)
    SYNTHOS_TRACES        = "gcp" # Cloud Trace
    # A share of new traces, as Cloud Trace is usually sampled: an
    # unsampled request costs nothing measurable (README, Traces).
    SYNTHOS_TRACE_SAMPLE_RATIO = var.trace_sample_ratio
    # Where the platform's buckets live, for residency policies
    # (shared/destinations): a deployment serves the zone of its region.
    SYNTHOS_OBJECTS_REGION = var.region
    # Google's front end appends the client to X-Forwarded-For (one proxy);
    # the API behind the load balancer reads two deep (service_api.tf).
    SYNTHOS_TRUSTED_PROXIES = "1"
  }

  # Push functions verify their subscription's OIDC token again
  # (shared/pushauth, SYNTHOS_PUSH_*). The token's audience is the function's
  # deterministic run.app URL, https://SERVICE-PROJECT_NUMBER.REGION.run.app,
  # which Cloud Run's own invoker check accepts like the URL it generates,
  # and which, unlike service_config[0].uri, is known before the function
  # exists: a function cannot be given its own URI in its environment.
  push_audience = {
    for name in ["generate", "privacy", "notify", "analytics", "audit", "subscriptions", "guard", "generate_dead_letter", "privacy_dead_letter", "reap"] :
    name => "https://synthos-${replace(name, "_", "-")}-${data.google_project.this.number}.${var.region}.run.app"
  }

  # The accounts whose push tokens the push functions accept: the one the
  # subscriptions sign as.
  push_env = {
    SYNTHOS_PUSH_AUTH             = "oidc"
    SYNTHOS_PUSH_SERVICE_ACCOUNTS = google_service_account.pubsub_invoker.email
  }

  function_accounts = {
    api           = google_service_account.api.email
    billing       = google_service_account.billing.email
    ingest        = google_service_account.ingest.email
    generate      = google_service_account.generate.email
    privacy       = google_service_account.privacy.email
    notify        = google_service_account.notify.email
    analytics     = google_service_account.analytics.email
    audit         = google_service_account.audit.email
    subscriptions = google_service_account.subscriptions.email
    guard         = google_service_account.guard.email
    reap          = google_service_account.reap.email

    generate_dead_letter = google_service_account.generate_dead_letter.email
    privacy_dead_letter  = google_service_account.privacy_dead_letter.email
  }

  function_topic_pairs = {
    for pair in setproduct(keys(local.function_accounts), local.topics) : "${pair[0]}/${pair[1]}" => {
      function = pair[0]
      topic    = pair[1]
    }
  }
}

resource "google_project_iam_member" "function_datastore" {
  for_each = local.function_accounts
  project  = var.project
  role     = "roles/datastore.user"
  member   = "serviceAccount:${each.value}"
}

resource "google_project_iam_member" "function_metrics" {
  for_each = local.function_accounts
  project  = var.project
  role     = "roles/monitoring.metricWriter"
  member   = "serviceAccount:${each.value}"
}

resource "google_pubsub_topic_iam_member" "function_topic_viewer" {
  for_each = local.function_topic_pairs
  topic    = google_pubsub_topic.topic[each.value.topic].name
  role     = "roles/pubsub.viewer"
  member   = "serviceAccount:${local.function_accounts[each.value.function]}"
}

resource "google_secret_manager_secret_iam_member" "function_probe" {
  for_each  = local.function_accounts
  secret_id = google_secret_manager_secret.healthz_probe.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

# The functions' build identity. roles/cloudbuild.builds.builder covers the
# build itself (reading the staged source, writing the image to Artifact
# Registry, build logs); logging.logWriter and artifactregistry.writer are
# what the Cloud Functions documentation lists for a custom build account,
# granted explicitly so that a narrowed builder role does not break builds.
# Whoever applies must be able to act as this account
# (iam.serviceAccounts.actAs), as for every function's runtime account.
resource "google_service_account" "build" {
  account_id   = "synthos-build"
  display_name = "Synthos functions build (Cloud Build)"
  # Every function depends on this account's roles, so every function also
  # waits for the service agents' propagation (services.tf).
  depends_on = [google_project_service.services, terraform_data.api_propagation]
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/cloudbuild.builds.builder", "roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project
  role     = each.value
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}
