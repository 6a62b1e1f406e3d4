terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.40"
    }
  }
  # State lives in a GCS bucket created once by hand (see README: Deployment).
  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region
}

# The project number names the Google-managed service agents (Pub/Sub's).
data "google_project" "this" {
  project_id = var.project
}
