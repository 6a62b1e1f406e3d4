# Buckets with uniform access. The functions' source zip is uploaded here by
# Cloud Build; outputs and uploads expire by lifecycle rules.
resource "google_storage_bucket" "source" {
  name                        = "${var.project}-synthos-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning { enabled = true }
}

resource "google_storage_bucket" "data" {
  name                        = "${var.project}-synthos-data"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition { age = 30 }
    action { type = "Delete" }
  }
}
