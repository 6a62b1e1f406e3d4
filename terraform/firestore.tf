# The Firestore database and the composite indexes the queries need: an
# equality filter on one field ordered by another needs one index per
# direction used. Equality-only queries (api_keys by tenant, endpoints by
# tenant) are served by the automatic single-field indexes.
#
# A project has at most one (default) database: where one exists already
# (created in the console, or by App Engine), creating it fails with a
# conflict. Either import it (terraform import
# 'google_firestore_database.default[0]' 'projects/PROJECT/databases/(default)')
# or set create_firestore_database = false to leave it unmanaged; it must be
# in Native mode. Destroying the configuration abandons the database
# (the provider's default deletion_policy), never deletes its data.
locals {
  firestore_database = "(default)"
}

resource "google_firestore_database" "default" {
  count       = var.create_firestore_database ? 1 : 0
  name        = local.firestore_database
  location_id = var.region
  type        = "FIRESTORE_NATIVE"
  depends_on  = [google_project_service.services]
}

# jobs.List: a tenant's jobs, newest first (shared/jobs).
resource "google_firestore_index" "jobs_tenant_created" {
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "jobs"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "created"
    order      = "DESCENDING"
  }
}

# datasets.List: a tenant's datasets, newest first (shared/datasets).
resource "google_firestore_index" "datasets_tenant_created" {
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "datasets"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "created"
    order      = "DESCENDING"
  }
}

# models.List: a tenant's model versions, newest first (shared/models).
resource "google_firestore_index" "models_tenant_created" {
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "models"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "created"
    order      = "DESCENDING"
  }
}

# webhooks.Deliveries: a tenant's delivery log, latest attempt first, for
# all endpoints or one (shared/webhooks).
resource "google_firestore_index" "webhook_deliveries_tenant_at" {
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "webhook_deliveries"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "at"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "webhook_deliveries_tenant_endpoint_at" {
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "webhook_deliveries"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "at"
    order      = "DESCENDING"
  }
}

# audit.Log.List: a tenant's records in sequence order, either way, for all
# days or one (shared/audit).
resource "google_firestore_index" "audit_events_tenant_seq" {
  for_each   = toset(["ASCENDING", "DESCENDING"])
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "audit_events"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "seq"
    order      = each.value
  }
}

resource "google_firestore_index" "audit_events_tenant_day_seq" {
  for_each   = toset(["ASCENDING", "DESCENDING"])
  database   = local.firestore_database
  depends_on = [google_firestore_database.default, google_project_service.services]
  collection = "audit_events"
  fields {
    field_path = "tenant"
    order      = "ASCENDING"
  }
  fields {
    field_path = "day"
    order      = "ASCENDING"
  }
  fields {
    field_path = "seq"
    order      = each.value
  }
}

moved {
  from = google_firestore_database.default
  to   = google_firestore_database.default[0]
}
