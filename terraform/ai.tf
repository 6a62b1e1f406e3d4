# AI assistance (shared/llm, shared/assist): the functions that call models
# — the API (designing specs, pricing design jobs), Generate (text columns,
# column labels) and Privacy (report narratives) — get the configuration of
# the router, the Anthropic API key's secret, and, when a Vertex AI
# provider is listed, the Vertex AI user role. The offline provider needs
# none of it and is the default.
#
# The key's value is added out of band, never in Terraform state:
#
#   printf %s "$ANTHROPIC_API_KEY" | gcloud secrets versions add anthropic-api-key --data-file=-
#
# Claude on Vertex AI also needs the Claude models enabled for the project
# in Vertex AI Model Garden (a one-time acceptance in the console).

locals {
  ai_functions = {
    api      = google_service_account.api.email
    generate = google_service_account.generate.email
    privacy  = google_service_account.privacy.email
  }
  ai_providers = [for p in split(",", var.ai_providers) : trimspace(p) if trimspace(p) != ""]
  ai_vertex    = contains(local.ai_providers, "gemini") || contains(local.ai_providers, "claude-vertex")

  # shared/config's AI settings (README "AI assistance").
  ai_env = {
    SYNTHOS_AI_PROVIDERS           = var.ai_providers
    SYNTHOS_AI_MODELS              = var.ai_models
    SYNTHOS_AI_POLICIES            = var.ai_policies
    SYNTHOS_AI_BUDGETS             = var.ai_budgets
    SYNTHOS_VERTEX_LOCATION        = var.ai_vertex_location
    SYNTHOS_CLAUDE_VERTEX_LOCATION = var.ai_claude_vertex_location
  }
}

# The Anthropic API key (llm.AnthropicKeySecret), read when ai_providers
# lists claude.
resource "google_secret_manager_secret" "anthropic_api_key" {
  secret_id = "anthropic-api-key"
  replication {
    auto {}
  }
  depends_on = [google_project_service.services]
}

resource "google_secret_manager_secret_iam_member" "ai_anthropic_api_key" {
  for_each  = contains(local.ai_providers, "claude") ? local.ai_functions : {}
  secret_id = google_secret_manager_secret.anthropic_api_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

# Gemini and Claude on Vertex AI are called as the function's own service
# account (Application Default Credentials): aiplatform.endpoints.predict on
# the publisher models is in roles/aiplatform.user, granted on the project
# because publisher models are not project resources with their own IAM.
resource "google_project_iam_member" "ai_vertex_user" {
  for_each = local.ai_vertex ? local.ai_functions : {}
  project  = var.project
  role     = "roles/aiplatform.user"
  member   = "serviceAccount:${each.value}"
}
