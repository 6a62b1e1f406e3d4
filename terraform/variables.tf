variable "project" {
  description = "Google Cloud project id that hosts Synthos."
  type        = string
}

variable "region" {
  description = "Region for functions, buckets, Firestore and the upload trigger (the uploads bucket and the trigger must share it)."
  type        = string
  default     = "europe-west1"
}

variable "source_object" {
  description = "Name of the functions' source zip in the source bucket, uploaded before the plan (cloudbuild.yaml and make deploy upload source-<commit>.zip and pass its name). No default: nothing uploads a fixed name."
  type        = string
  validation {
    condition     = endswith(var.source_object, ".zip")
    error_message = "source_object must name a .zip in the source bucket."
  }
}

variable "log_level" {
  description = "SYNTHOS_LOG_LEVEL of every function: debug, info, warn or error."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "max_delivery_attempts" {
  description = "Push deliveries before a message goes to its dead-letter topic (5-100)."
  type        = number
  default     = 5
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub allows 5 to 100 delivery attempts."
  }
}

variable "push_min_backoff" {
  description = "Shortest wait before Pub/Sub redelivers a message a push endpoint refused."
  type        = string
  default     = "10s"
}

variable "push_max_backoff" {
  description = "Longest wait before Pub/Sub redelivers a message a push endpoint refused (at most 600s)."
  type        = string
  default     = "600s"
}

variable "public_http" {
  description = "Grant roles/run.invoker to allUsers on the API and Billing functions (they authenticate requests themselves: API keys, provider signatures). Set false where the organisation policy constraints/iam.allowedPolicyMemberDomains (domain-restricted sharing) applies: the grant is refused there, and the functions must be fronted by something that may invoke them (see README: Deployment)."
  type        = bool
  default     = true
}

variable "upload_retention_days" {
  description = "Days an uploaded file is kept before the uploads bucket deletes it."
  type        = number
  default     = 7
}

variable "data_retention_days" {
  description = "Days any object in the data bucket (datasets, outputs, models, reports, quarantined outputs) is kept."
  type        = number
  default     = 30
  validation {
    condition     = var.data_retention_days >= 1
    error_message = "data_retention_days must be at least 1."
  }
}

variable "residency_zone_regions" {
  description = "Extra platform data buckets, one per residency zone, as zone => region (e.g. { us = \"us-central1\", uk = \"europe-west2\" }). A tenant whose storage policy sets that residency has its datasets, job files, models and reports kept in its zone's bucket (SYNTHOS_ZONE_BUCKETS); other tenants use the data bucket in var.region. The region must be in the zone (shared/destinations knows the mapping; the functions refuse to start otherwise)."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for z in keys(var.residency_zone_regions) : contains(["eu", "uk", "ch", "us", "ca", "sa", "asia", "au", "me", "af"], z)])
    error_message = "residency_zone_regions keys must be residency zones: eu, uk, ch, us, ca, sa, asia, au, me, af."
  }
}

variable "part_retention_days" {
  description = "Days an output part left behind by a crashed or dead-lettered job is kept in the data bucket (the last shard deletes parts it composes)."
  type        = number
  default     = 2
  validation {
    condition     = var.part_retention_days >= 1
    error_message = "part_retention_days must be at least 1."
  }
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) that alert policies notify."
  type        = list(string)
  default     = []
}

variable "alert_error_ratio" {
  description = "Share of a function's requests answered 5xx, over 5 minutes, that raises an alert."
  type        = number
  default     = 0.05
}

variable "alert_latency_ms" {
  description = "99th percentile request latency of a function, over 5 minutes, that raises an alert."
  type        = number
  default     = 30000
}

variable "generate_max_instances" {
  description = "Most Generate instances at once. Each samples one shard at a time (max_instance_request_concurrency = 1), so this is how many shards the platform samples at once, across jobs and tenants; messages beyond it wait in generate-requests."
  type        = number
  default     = 20
  validation {
    condition     = var.generate_max_instances >= 1 && var.generate_max_instances <= 1000
    error_message = "generate_max_instances must be 1 to 1000."
  }
}

variable "api_propagation_wait_seconds" {
  description = "Seconds to wait, once, after the APIs are first enabled, for service agents' permissions to propagate (Eventarc's in particular) before creating functions and the upload trigger. 0 skips the wait."
  type        = number
  default     = 120
  validation {
    condition     = var.api_propagation_wait_seconds >= 0
    error_message = "api_propagation_wait_seconds must not be negative."
  }
}

variable "create_firestore_database" {
  description = "Create the Firestore (default) database. Set false when the project already has one (it must be FIRESTORE_NATIVE, ideally in var.region); the indexes are then added to it."
  type        = bool
  default     = true
}

variable "audit_retention_locked" {
  description = "Lock the audit archive's 7-year retention policy. IRREVERSIBLE once applied: the policy can never be shortened or removed and the bucket cannot be deleted while it holds objects under retention. Set false only in test projects."
  type        = bool
  default     = true
}

variable "alert_emails" {
  description = "Email addresses that receive every Synthos alert (one email notification channel each)."
  type        = list(string)
  default     = []
}

variable "alert_slack_channel" {
  description = "Slack channel (#name) that receives every alert; empty for none. Needs alert_slack_token."
  type        = string
  default     = ""
}

variable "alert_slack_token" {
  description = "OAuth token of the Cloud Monitoring Slack app for alert_slack_channel."
  type        = string
  default     = ""
  sensitive   = true
  validation {
    condition     = var.alert_slack_channel == "" || var.alert_slack_token != ""
    error_message = "alert_slack_channel needs alert_slack_token (the Cloud Monitoring Slack app's OAuth token)."
  }
}

variable "alert_pagerduty_service_key" {
  description = "PagerDuty integration (service) key that receives every alert; empty for none."
  type        = string
  default     = ""
  sensitive   = true
}

variable "alert_webhook_url" {
  description = "HTTPS URL that receives every alert as a webhook (Cloud Monitoring's webhook_tokenauth channel; put the token in the URL); empty for none."
  type        = string
  default     = ""
  validation {
    condition     = var.alert_webhook_url == "" || startswith(var.alert_webhook_url, "https://")
    error_message = "alert_webhook_url must be an https:// URL."
  }
}

variable "alert_security_events_per_minute" {
  description = "Security events (denials, refused push tokens, WAF blocks) a minute, over 5 minutes, that raise an alert."
  type        = number
  default     = 30
}

variable "slo_availability" {
  description = "API availability SLO: the share of requests not answered 5xx over 28 days."
  type        = number
  default     = 0.995
  validation {
    condition     = var.slo_availability > 0 && var.slo_availability < 1
    error_message = "slo_availability must be between 0 and 1 (exclusive)."
  }
}

variable "slo_latency_ms" {
  description = "API latency SLO threshold: requests answered within this many milliseconds count as good."
  type        = number
  default     = 1000
}

variable "slo_latency_goal" {
  description = "API latency SLO: the share of requests answered within slo_latency_ms over 28 days."
  type        = number
  default     = 0.95
  validation {
    condition     = var.slo_latency_goal > 0 && var.slo_latency_goal < 1
    error_message = "slo_latency_goal must be between 0 and 1 (exclusive)."
  }
}

variable "slo_job_success" {
  description = "Job success SLO: the share of finished jobs that succeed over 28 days."
  type        = number
  default     = 0.98
  validation {
    condition     = var.slo_job_success > 0 && var.slo_job_success < 1
    error_message = "slo_job_success must be between 0 and 1 (exclusive)."
  }
}

variable "analytics_bigquery" {
  description = "Export job events to BigQuery (dataset synthos_analytics, table job_events) through a Pub/Sub BigQuery subscription."
  type        = bool
  default     = true
}

variable "bigquery_location" {
  description = "Location of the synthos_analytics BigQuery dataset."
  type        = string
  default     = "EU"
}

variable "edge_load_balancer" {
  description = "Put the API behind an external HTTPS load balancer (serverless NEG) with a Cloud Armor security policy: preconfigured WAF rules and a per-address rate-based ban. The API then accepts only load balancer and internal traffic. Needs edge_domain."
  type        = bool
  default     = false
}

variable "edge_domain" {
  description = "The API's domain for the load balancer's Google-managed certificate (point its A record at the edge_address output)."
  type        = string
  default     = ""
  validation {
    condition     = var.edge_domain == "" || can(regex("^[a-z0-9.-]+\\.[a-z]{2,}$", var.edge_domain))
    error_message = "edge_domain must be a domain name such as api.example.com."
  }
}

variable "armor_waf_sensitivity" {
  description = "Sensitivity (paranoia level) of Cloud Armor's preconfigured WAF rules, 1 to 4."
  type        = number
  default     = 1
  validation {
    condition     = var.armor_waf_sensitivity >= 1 && var.armor_waf_sensitivity <= 4
    error_message = "armor_waf_sensitivity must be 1 to 4."
  }
}

variable "armor_rate_limit_per_minute" {
  description = "Requests a minute one address may send through the load balancer before Cloud Armor answers 429 (twice that in two minutes bans it)."
  type        = number
  default     = 1200
}

variable "armor_ban_seconds" {
  description = "How long Cloud Armor's rate-based ban lasts."
  type        = number
  default     = 600
}

variable "redis_enabled" {
  description = "Create a Memorystore for Redis instance and a VPC connector so that rate limits, security-rule counters and bans are shared by every instance of the public functions (SYNTHOS_REDIS_URL). Without it each instance keeps its own (a weaker guarantee: README, Security)."
  type        = bool
  default     = false
}

variable "redis_tier" {
  description = "Memorystore tier: BASIC (one node) or STANDARD_HA (a replica; survives a zone failure)."
  type        = string
  default     = "BASIC"
  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.redis_tier)
    error_message = "redis_tier must be BASIC or STANDARD_HA."
  }
}

variable "redis_memory_gb" {
  description = "Memorystore capacity in GB (counters and bans are tiny: 1 is plenty)."
  type        = number
  default     = 1
}

variable "vpc_network" {
  description = "The VPC network of the Memorystore instance and the functions' connector."
  type        = string
  default     = "default"
}

variable "vpc_connector_cidr" {
  description = "An unused /28 of vpc_network for the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"
}

variable "ai_providers" {
  description = "SYNTHOS_AI_PROVIDERS: model providers the AI router may use, comma-separated, among offline, gemini (Gemini on Vertex AI), claude (Anthropic API; key in the anthropic-api-key secret), claude-vertex (Claude on Vertex AI). offline is always the last resort."
  type        = string
  default     = "offline"
  validation {
    condition     = alltrue([for p in split(",", var.ai_providers) : contains(["offline", "gemini", "claude", "claude-vertex"], trimspace(p))])
    error_message = "ai_providers lists offline, gemini, claude or claude-vertex, comma-separated."
  }
}

variable "ai_models" {
  description = "SYNTHOS_AI_MODELS: provider.task=model pairs overriding the built-in model per task (tasks: design, text, typing, narrative), e.g. gemini.design=gemini-2.5-pro,claude.text=claude-haiku-4-5. Empty: the defaults."
  type        = string
  default     = ""
}

variable "ai_policies" {
  description = "SYNTHOS_AI_POLICIES: routing policy per task (cheapest, best_quality, lowest_latency)."
  type        = string
  default     = "design=best_quality,text=cheapest,typing=lowest_latency,narrative=cheapest"
}

variable "ai_budgets" {
  description = "SYNTHOS_AI_BUDGETS: overrides the plan catalog's monthly AI budget (ai_budget_usd) per tenant in US dollars, per plan (0: none); empty keeps the catalog's."
  type        = string
  default     = ""
}

variable "ai_vertex_location" {
  description = "SYNTHOS_VERTEX_LOCATION: Vertex AI region of Gemini calls."
  type        = string
  default     = "us-central1"
}

variable "ai_claude_vertex_location" {
  description = "SYNTHOS_CLAUDE_VERTEX_LOCATION: Vertex AI region of Claude calls (Claude is served in fewer regions)."
  type        = string
  default     = "us-east5"
}

variable "trace_sample_ratio" {
  description = "Share of new traces the functions sample and send to Cloud Trace, in (0, 1] (SYNTHOS_TRACE_SAMPLE_RATIO). A request arriving with a traceparent keeps its caller's decision."
  type        = number
  default     = 0.1
  validation {
    condition     = var.trace_sample_ratio > 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio must be in (0, 1]."
  }
}
