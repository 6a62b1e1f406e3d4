# Topics that chain the functions (shared/topics lists the same names; a Go
# test keeps the two in step). Each has a dead-letter topic with a pull
# subscription so that poison messages are kept and can be inspected.
locals {
  topics = ["generate-requests", "privacy-checks", "job-events", "audit-events", "billing-events", "budget-alerts"]
}

resource "google_pubsub_topic" "topic" {
  for_each   = toset(local.topics)
  name       = each.value
  depends_on = [google_project_service.services]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = toset(local.topics)
  name     = "${each.value}-dead-letter"
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = toset(local.topics)
  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.value].id
  message_retention_duration = "604800s"
}
