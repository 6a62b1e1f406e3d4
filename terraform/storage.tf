# Buckets, all with uniform bucket-level access and public access prevention.
# Lifecycle rules delete what is only needed for a while; the audit archive is
# kept under a locked retention policy.
#
# Tenant data lives in ONE bucket, google_storage_bucket.data, the
# SYNTHOS_OBJECTS_URL of every function that touches it (api, ingest,
# generate, privacy). Every key starts with tenants/<tenant>/ (package
# shared/datasets): datasets, and under the job prefix
# tenants/<tenant>/jobs/<job>/ the output, its parts, the fitted model
# (model.bin), the train/holdout split and the reports (report.json,
# report.html); quarantined outputs under tenants/<tenant>/quarantine/. Models
# and reports therefore have no buckets of their own: tenant scoping (access,
# export, deletion) is one prefix in one bucket. The uploads bucket is only the
# drop zone the Ingest trigger watches; Ingest copies each file into the data
# bucket.

# The functions' source zip, uploaded by Cloud Build before each plan. On a
# first run Cloud Build creates the bucket before uploading (cloudbuild.yaml,
# step zip), before Terraform manages it; the import block adopts it into
# the state then, and is a no-op once the bucket is in the state.
import {
  to = google_storage_bucket.source
  id = "${var.project}-synthos-source"
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project}-synthos-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning { enabled = true }
  lifecycle_rule {
    condition { age = 365 }
    action { type = "Delete" }
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action { type = "Delete" }
  }
}

# Drop zone for files customers upload straight to Cloud Storage: each
# finalized object triggers the Ingest function, which copies it into the data
# bucket. Nothing else reads it, so uploads expire after
# var.upload_retention_days.
resource "google_storage_bucket" "uploads" {
  name                        = "${var.project}-synthos-uploads"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = var.upload_retention_days }
    action { type = "Delete" }
  }
  lifecycle_rule {
    condition { age = 1 }
    action { type = "AbortIncompleteMultipartUpload" }
  }
}

# Tenant data: datasets, job artifacts, reports and quarantined outputs, all
# under tenants/<tenant>/ (see the top of this file).
resource "google_storage_bucket" "data" {
  name                        = "${var.project}-synthos-data"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Everything, whatever its prefix, is deleted after the retention period.
  lifecycle_rule {
    condition { age = var.data_retention_days }
    action { type = "Delete" }
  }

  # Output parts (tenants/<t>/jobs/<j>/parts/part-NNNNN) are deleted by the
  # last shard once it has composed the output; a crash or a dead-lettered
  # job can leave them behind. Lifecycle conditions match literal prefixes
  # and suffixes only (no wildcard mid-path, so "tenants/*/jobs/*/parts/"
  # cannot be written), and shard numbers are unbounded, so the rule matches
  # tenant keys ending in a digit. Only part keys do: dataset keys end in
  # their table extension (.csv .tsv .jsonl .ndjson .parquet; the API refuses
  # other names, and an upload Ingest cannot read becomes a failed job), and
  # every other job artifact ends in a fixed name (output.<ext>, model.bin,
  # train.csv, holdout.csv, report.json, report.html).
  lifecycle_rule {
    condition {
      age            = var.part_retention_days
      matches_prefix = ["tenants/"]
      matches_suffix = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    }
    action { type = "Delete" }
  }
}

# Audit archive: objects cannot be deleted or replaced for 7 years
# (7 x 365 days = 220752000 s). With var.audit_retention_locked (the
# default) the policy is LOCKED: once applied it can never be shortened or
# removed, and the bucket cannot be deleted while it holds objects under
# retention. This is IRREVERSIBLE. Test projects set the variable to false:
# the same retention, but the policy can be removed later
# (gcloud storage buckets update --clear-retention-period) and the bucket
# emptied and destroyed. Objects move to colder storage as they age
# and are deleted once the retention has passed.
resource "google_storage_bucket" "audit_archive" {
  name                        = "${var.project}-synthos-audit-archive"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  retention_policy {
    retention_period = 220752000
    is_locked        = var.audit_retention_locked
  }
  lifecycle_rule {
    condition { age = 30 }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }
  lifecycle_rule {
    condition { age = 365 }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }
  lifecycle_rule {
    condition { age = 2556 }
    action { type = "Delete" }
  }
}

# One more data bucket per residency zone (var.residency_zone_regions):
# shared/destinations routes every key under tenants/<tenant>/ to the
# bucket of the tenant's residency zone, so one deployment keeps each
# tenant's data in its zone. Same retention and part clean-up as the data
# bucket.
resource "google_storage_bucket" "zone_data" {
  for_each                    = var.residency_zone_regions
  name                        = "${var.project}-synthos-data-${each.key}"
  location                    = each.value
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = var.data_retention_days }
    action { type = "Delete" }
  }
  lifecycle_rule {
    condition {
      age            = var.part_retention_days
      matches_prefix = ["tenants/"]
      matches_suffix = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    }
    action { type = "Delete" }
  }
}

locals {
  # SYNTHOS_ZONE_BUCKETS of every function that reads or writes tenant data.
  zone_buckets_env = join(",", [for z, r in var.residency_zone_regions : "${r}=gs://${google_storage_bucket.zone_data[z].name}"])

  # Each function's role on the data bucket, granted on every zone bucket
  # too (the service_*.tf files grant it on the data bucket).
  zone_data_roles = {
    analytics_viewer = { sa = google_service_account.analytics.email, role = "roles/storage.objectViewer" }
    api_admin        = { sa = google_service_account.api.email, role = "roles/storage.objectAdmin" }
    generate_admin   = { sa = google_service_account.generate.email, role = "roles/storage.objectAdmin" }
    ingest_creator   = { sa = google_service_account.ingest.email, role = "roles/storage.objectCreator" }
    ingest_viewer    = { sa = google_service_account.ingest.email, role = "roles/storage.objectViewer" }
    privacy_admin    = { sa = google_service_account.privacy.email, role = "roles/storage.objectAdmin" }
    reap_admin       = { sa = google_service_account.reap.email, role = "roles/storage.objectAdmin" }
  }
}

resource "google_storage_bucket_iam_member" "zone_data" {
  for_each = { for pair in setproduct(keys(var.residency_zone_regions), keys(local.zone_data_roles)) : "${pair[0]}-${pair[1]}" => {
    zone = pair[0]
    role = local.zone_data_roles[pair[1]].role
    sa   = local.zone_data_roles[pair[1]].sa
  } }
  bucket = google_storage_bucket.zone_data[each.value.zone].name
  role   = each.value.role
  member = "serviceAccount:${each.value.sa}"
}
