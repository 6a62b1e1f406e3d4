# Buckets, one per kind of data, all with uniform bucket-level access and
# public access prevention. Lifecycle rules delete what is only needed for a
# while; the audit archive is kept under a locked retention policy.

# The functions' source zip, uploaded by Cloud Build before each plan.
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

# Customer files; each finalized object triggers the Ingest function.
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

# Synthetic tables written by Generate (and quarantined by Privacy).
resource "google_storage_bucket" "outputs" {
  name                        = "${var.project}-synthos-outputs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = var.output_retention_days }
    action { type = "Delete" }
  }
}

# Fitted models, reused for more samples of the same dataset.
resource "google_storage_bucket" "models" {
  name                        = "${var.project}-synthos-models"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = var.model_retention_days }
    action { type = "Delete" }
  }
}

# Quality and privacy reports (JSON and HTML).
resource "google_storage_bucket" "reports" {
  name                        = "${var.project}-synthos-reports"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = var.output_retention_days }
    action { type = "Delete" }
  }
}

# Audit archive: objects cannot be deleted or replaced for 7 years
# (7 x 365 days = 220752000 s). The policy is LOCKED: once applied it can
# never be shortened or removed, and the bucket cannot be deleted while it
# holds objects under retention. Objects move to colder storage as they age
# and are deleted once the retention has passed.
resource "google_storage_bucket" "audit_archive" {
  name                        = "${var.project}-synthos-audit-archive"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  retention_policy {
    retention_period = 220752000
    is_locked        = true
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
