# The security edge in the cloud, both parts optional:
#
# - var.edge_load_balancer: an external Application Load Balancer (HTTPS,
#   Google-managed certificate for var.edge_domain) with a serverless NEG in
#   front of the API function, and a Cloud Armor security policy on its
#   backend: preconfigured WAF rules (OWASP CRS 3.3 signatures, evaluated at
#   Google's edge before a request reaches the function) and a rate-based ban
#   per client address. The function then accepts only internal and load
#   balancer traffic, so Cloud Armor cannot be bypassed, and the API reads
#   the client address two proxies deep in X-Forwarded-For. The API's own
#   edge (shared/edge: Coraza with CRS 4, plan-aware limits, Synthos' rules)
#   still runs behind it.
#
# - var.redis_enabled: a Memorystore for Redis instance and a Serverless VPC
#   Access connector for the public functions; its URL (with the AUTH
#   string) reaches them as the secret SYNTHOS_REDIS_URL. Without it each
#   function instance keeps its own rate limits, rule counters and bans:
#   with N instances a client can get up to N times its limit, and a ban
#   holds only on the instance that issued it (README: Security).

locals {
  # Table uploads and billing webhooks are excluded from the preconfigured
  # WAF rules, as from CRS in the function (shared/waf explains why).
  armor_not_uploads = "!request.path.matches('^/v1/datasets(/[^/]+/content)?$') && !request.path.startsWith('/webhooks/')"
  armor_waf_rules = {
    1000 = "sqli-v33-stable"
    1010 = "xss-v33-stable"
    1020 = "lfi-v33-stable"
    1030 = "rfi-v33-stable"
    1040 = "rce-v33-stable"
    1050 = "methodenforcement-v33-stable"
    1060 = "scannerdetection-v33-stable"
    1070 = "protocolattack-v33-stable"
    1080 = "sessionfixation-v33-stable"
    1090 = "java-v33-stable" # includes the Log4Shell signatures
  }
  edge_services = concat(
    var.edge_load_balancer ? ["compute.googleapis.com"] : [],
    var.redis_enabled ? ["redis.googleapis.com", "vpcaccess.googleapis.com", "compute.googleapis.com"] : [],
  )
}

resource "google_project_service" "edge" {
  for_each           = toset(local.edge_services)
  service            = each.value
  disable_on_destroy = false
}

resource "google_compute_security_policy" "edge" {
  count       = var.edge_load_balancer ? 1 : 0
  name        = "synthos-edge"
  description = "Synthos API: preconfigured WAF rules and a per-address rate-based ban"
  type        = "CLOUD_ARMOR"

  dynamic "rule" {
    for_each = local.armor_waf_rules
    content {
      priority    = rule.key
      action      = "deny(403)"
      description = "preconfigured WAF: ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': ${var.armor_waf_sensitivity}}) && ${local.armor_not_uploads}"
        }
      }
    }
  }

  rule {
    priority    = 2000
    action      = "rate_based_ban"
    description = "more than ${var.armor_rate_limit_per_minute} requests a minute from one address: banned for ${var.armor_ban_seconds}s"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.armor_rate_limit_per_minute
        interval_sec = 60
      }
      ban_threshold {
        count        = 2 * var.armor_rate_limit_per_minute
        interval_sec = 120
      }
      ban_duration_sec = var.armor_ban_seconds
    }
  }

  rule {
    priority    = 2147483647
    action      = "allow"
    description = "default: allow (the function's own edge decides the rest)"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.edge]
}

resource "google_compute_region_network_endpoint_group" "api" {
  count                 = var.edge_load_balancer ? 1 : 0
  name                  = "synthos-api-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_run {
    service = google_cloudfunctions2_function.api.service_config[0].service
  }
  depends_on = [google_project_service.edge]
}

resource "google_compute_backend_service" "api" {
  count                 = var.edge_load_balancer ? 1 : 0
  name                  = "synthos-api"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.edge[0].id
  backend {
    group = google_compute_region_network_endpoint_group.api[0].id
  }
  log_config {
    enable = true
  }
}

resource "google_compute_url_map" "api" {
  count           = var.edge_load_balancer ? 1 : 0
  name            = "synthos-api"
  default_service = google_compute_backend_service.api[0].id
}

resource "google_compute_managed_ssl_certificate" "api" {
  count = var.edge_load_balancer ? 1 : 0
  name  = "synthos-api"
  managed {
    domains = [var.edge_domain]
  }
  lifecycle {
    precondition {
      condition     = var.edge_domain != ""
      error_message = "edge_load_balancer needs edge_domain (the API's domain name, for its certificate)."
    }
  }
  depends_on = [google_project_service.edge]
}

resource "google_compute_target_https_proxy" "api" {
  count            = var.edge_load_balancer ? 1 : 0
  name             = "synthos-api"
  url_map          = google_compute_url_map.api[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.api[0].id]
}

resource "google_compute_global_address" "api" {
  count      = var.edge_load_balancer ? 1 : 0
  name       = "synthos-api"
  depends_on = [google_project_service.edge]
}

resource "google_compute_global_forwarding_rule" "api" {
  count                 = var.edge_load_balancer ? 1 : 0
  name                  = "synthos-api-https"
  target                = google_compute_target_https_proxy.api[0].id
  ip_address            = google_compute_global_address.api[0].address
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# --- Memorystore and the functions' VPC connector --------------------------

data "google_compute_network" "edge" {
  count = var.redis_enabled ? 1 : 0
  name  = var.vpc_network
}

resource "google_vpc_access_connector" "functions" {
  count         = var.redis_enabled ? 1 : 0
  name          = "synthos-functions"
  region        = var.region
  network       = data.google_compute_network.edge[0].name
  ip_cidr_range = var.vpc_connector_cidr
  min_instances = 2
  max_instances = 3
  depends_on    = [google_project_service.edge]
}

resource "google_redis_instance" "edge" {
  count              = var.redis_enabled ? 1 : 0
  name               = "synthos-edge"
  region             = var.region
  tier               = var.redis_tier
  memory_size_gb     = var.redis_memory_gb
  redis_version      = "REDIS_7_2"
  authorized_network = data.google_compute_network.edge[0].id
  connect_mode       = "DIRECT_PEERING"
  auth_enabled       = true
  # Counters and bans are short-lived: nothing to persist.
  persistence_config {
    persistence_mode = "DISABLED"
  }
  depends_on = [google_project_service.edge]
}

resource "google_secret_manager_secret" "redis_url" {
  count     = var.redis_enabled ? 1 : 0
  secret_id = "synthos-redis-url"
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

resource "google_secret_manager_secret_version" "redis_url" {
  count       = var.redis_enabled ? 1 : 0
  secret      = google_secret_manager_secret.redis_url[0].id
  secret_data = "redis://:${google_redis_instance.edge[0].auth_string}@${google_redis_instance.edge[0].host}:${google_redis_instance.edge[0].port}/0"
}

resource "google_secret_manager_secret_iam_member" "redis_url" {
  for_each  = var.redis_enabled ? { api = google_service_account.api.email, billing = google_service_account.billing.email } : {}
  secret_id = google_secret_manager_secret.redis_url[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}
