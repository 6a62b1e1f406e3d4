variable "project" {
  description = "Google Cloud project id that hosts Synthos."
  type        = string
}

variable "region" {
  description = "Region for functions, buckets and Firestore."
  type        = string
  default     = "europe-west1"
}

variable "source_object" {
  description = "Name of the functions' source zip in the source bucket (set by Cloud Build)."
  type        = string
  default     = "source.zip"
}

variable "max_delivery_attempts" {
  description = "Push deliveries before a message goes to its dead-letter topic (5-100)."
  type        = number
  default     = 5
}
