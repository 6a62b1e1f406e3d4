# Topics that chain the functions (shared/topics lists the same names; a Go
# test keeps the two in step). Each topic is read by one push subscription,
# declared with its function in service_<name>.tf, whose poison messages go
# to the topic's dead-letter topic; a pull subscription keeps them there for
# inspection, and an alert fires when any are waiting.
locals {
  topics = ["generate-requests", "privacy-checks", "job-events", "audit-events", "billing-events", "budget-alerts", "reaper-ticks"]

  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Subscriptions with a dead-letter policy, by consumer; Pub/Sub's service
  # agent must be able to acknowledge on them to forward dead letters.
  push_subscriptions = merge({
    generate      = google_pubsub_subscription.generate.name
    privacy       = google_pubsub_subscription.privacy.name
    notify        = google_pubsub_subscription.notify.name
    analytics     = google_pubsub_subscription.analytics.name
    audit         = google_pubsub_subscription.audit.name
    subscriptions = google_pubsub_subscription.subscriptions.name
    guard         = google_pubsub_subscription.guard.name
    reap          = google_pubsub_subscription.reap.name
    }, var.analytics_bigquery ? {
    bigquery = google_pubsub_subscription.job_events_bigquery[0].name
  } : {})
}

resource "google_pubsub_topic" "topic" {
  for_each   = toset(local.topics)
  name       = each.value
  depends_on = [google_project_service.services]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each   = toset(local.topics)
  name       = "${each.value}-dead-letter"
  depends_on = [google_project_service.services]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = toset(local.topics)
  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.value].id
  message_retention_duration = "604800s"
  expiration_policy { ttl = "" }
}

# Dead-lettering: the Pub/Sub service agent publishes to the dead-letter
# topic and acknowledges on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(local.topics)
  topic    = google_pubsub_topic.dead_letter[each.value].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.push_subscriptions
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The identity push subscriptions sign their OIDC tokens with; each push
# function grants it run.invoker on itself only.
resource "google_service_account" "pubsub_invoker" {
  account_id   = "synthos-pubsub-invoker"
  display_name = "Synthos Pub/Sub push invoker"
  depends_on   = [google_project_service.services]
}

# Pub/Sub's service agent mints OIDC tokens as the accounts that push
# requests: the push invoker, and the Ingest trigger's account (Eventarc
# delivers through a Pub/Sub push subscription). Projects created since April
# 2021 grant this implicitly; older ones need the grants.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  for_each = {
    pubsub_invoker = google_service_account.pubsub_invoker.name
    ingest_trigger = google_service_account.ingest_trigger.name
  }
  service_account_id = each.value
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

moved {
  from = google_service_account_iam_member.pubsub_agent_token_creator
  to   = google_service_account_iam_member.pubsub_agent_token_creator["pubsub_invoker"]
}
