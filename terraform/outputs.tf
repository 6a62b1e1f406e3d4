output "data_bucket" {
  value = google_storage_bucket.data.name
}

output "topics" {
  value = { for k, t in google_pubsub_topic.topic : k => t.id }
}
