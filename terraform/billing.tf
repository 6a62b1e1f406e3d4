# Billing: the webhook signing secrets of the Billing function, and the Cloud
# Billing budget whose notifications drive the Guard function through the
# budget-alerts topic (shared/billing, functions/billingwebhooks, functions/budgetalerts).

variable "billing_account" {
  description = "Cloud Billing account id (XXXXXX-XXXXXX-XXXXXX) that pays for the project; the budget is created on it."
  type        = string
  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account must be a billing account id, XXXXXX-XXXXXX-XXXXXX (gcloud billing projects describe PROJECT)."
  }
}

variable "budget_amount" {
  description = "Monthly budget in budget_currency (whole units). The Guard pauses generation at SYNTHOS_BUDGET_PAUSE_THRESHOLD of it."
  type        = number
  default     = 500
}

variable "budget_currency" {
  description = "Currency of budget_amount; must be the billing account's currency."
  type        = string
  default     = "USD"
}

resource "google_project_service" "billing" {
  for_each           = toset(["billingbudgets.googleapis.com", "cloudbilling.googleapis.com"])
  service            = each.value
  disable_on_destroy = false
}

# The secrets hold the signing keys: Paddle's notification destination key
# (pdl_ntfset_...) and Stripe's endpoint secret (whsec_...). Terraform creates
# the containers only; values are added as versions out of band
#   printf '%s' "$KEY" | gcloud secrets versions add paddle-webhook-secret --data-file=-
# so that no key lands in Terraform state. During a rotation the value may hold
# the old and the new key separated by a comma.
resource "google_secret_manager_secret" "webhook" {
  for_each  = toset(["paddle-webhook-secret", "stripe-webhook-secret"])
  secret_id = each.value
  labels    = { app = "synthos", function = "billing" }
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

# The Billing function's identity: it reads exactly these two secrets.
resource "google_service_account" "billing" {
  account_id   = "synthos-billing"
  display_name = "Synthos Billing webhooks function"
  depends_on   = [google_project_service.services]
}

resource "google_secret_manager_secret_iam_member" "billing_webhook" {
  for_each  = google_secret_manager_secret.webhook
  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.billing.email}"
}

data "google_project" "billing" {
  project_id = var.project
}

# All updates (several a day) go to budget-alerts, not only threshold
# crossings: the Guard needs the notifications that fall back below the
# threshold to resume generation. Whoever applies this needs
# pubsub.topics.setIamPolicy on the topic; Cloud Billing then grants itself
# the right to publish. With user credentials, the provider needs
# user_project_override and billing_project for the Budget API.
resource "google_billing_budget" "synthos" {
  billing_account = var.billing_account
  display_name    = "synthos-${var.project}"

  budget_filter {
    projects               = ["projects/${data.google_project.billing.number}"]
    calendar_period        = "MONTH"
    credit_types_treatment = "INCLUDE_ALL_CREDITS"
  }

  amount {
    specified_amount {
      currency_code = var.budget_currency
      units         = tostring(floor(var.budget_amount))
    }
  }

  threshold_rules {
    threshold_percent = 0.5
  }
  threshold_rules {
    threshold_percent = 0.9
  }
  threshold_rules {
    threshold_percent = 1.0
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    pubsub_topic   = google_pubsub_topic.topic["budget-alerts"].id
    schema_version = "1.0"
  }

  depends_on = [google_project_service.billing]
}

output "billing_webhook_secrets" {
  value = { for k, s in google_secret_manager_secret.webhook : k => s.id }
}

output "billing_service_account" {
  value = google_service_account.billing.email
}
