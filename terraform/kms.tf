# Cloud KMS: the key-encryption key that wraps every tenant's Tink keysets
# (shared/keyring: envelope encryption of webhook secrets, datasets and
# models; SYNTHOS_KEK_URI) and the Ed25519 key that signs audit checkpoints
# (shared/audit; SYNTHOS_AUDIT_KMS_KEY). Neither key's material ever leaves
# KMS. Key rings and keys cannot be deleted, only their versions destroyed:
# prevent_destroy keeps a plan from trying.

resource "google_kms_key_ring" "synthos" {
  name       = "synthos"
  location   = var.region
  depends_on = [google_project_service.services]
}

# Wraps tenants' keysets. Rotation adds a primary version; older versions
# stay enabled so keysets wrapped under them still open.
resource "google_kms_crypto_key" "tenant_keysets" {
  name            = "tenant-keysets"
  key_ring        = google_kms_key_ring.synthos.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s" # 90 days
  lifecycle {
    prevent_destroy = true
  }
}

# Signs audit checkpoints (note format, pure Ed25519).
resource "google_kms_crypto_key" "audit_checkpoints" {
  name     = "audit-checkpoints"
  key_ring = google_kms_key_ring.synthos.id
  purpose  = "ASYMMETRIC_SIGN"
  version_template {
    algorithm        = "EC_SIGN_ED25519"
    protection_level = "SOFTWARE"
  }
  lifecycle {
    prevent_destroy = true
  }
}

locals {
  # The functions that open tenants' keysets: they read or write datasets,
  # models or webhook secrets.
  kek_users = {
    api      = google_service_account.api.email
    generate = google_service_account.generate.email
    privacy  = google_service_account.privacy.email
    ingest   = google_service_account.ingest.email
    notify   = google_service_account.notify.email
  }
  # The functions that sign audit checkpoints: the API (proofs) and the
  # audit function (archived bundles).
  checkpoint_signers = {
    api   = google_service_account.api.email
    audit = google_service_account.audit.email
  }
  # The keys' resource names, spelled out from known values rather than
  # read from the resources: the functions' environment must be known at
  # plan time (the plan test checks it), and these names are fixed.
  kms_key_ring  = "projects/${var.project}/locations/${var.region}/keyRings/${google_kms_key_ring.synthos.name}"
  kek_uri       = "gcp-kms://${local.kms_key_ring}/cryptoKeys/${google_kms_crypto_key.tenant_keysets.name}"
  audit_kms_key = "${local.kms_key_ring}/cryptoKeys/${google_kms_crypto_key.audit_checkpoints.name}/cryptoKeyVersions/1"
}

resource "google_kms_crypto_key_iam_member" "kek_user" {
  for_each      = local.kek_users
  crypto_key_id = google_kms_crypto_key.tenant_keysets.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${each.value}"
}

resource "google_kms_crypto_key_iam_member" "checkpoint_signer" {
  for_each      = local.checkpoint_signers
  crypto_key_id = google_kms_crypto_key.audit_checkpoints.id
  role          = "roles/cloudkms.signerVerifier"
  member        = "serviceAccount:${each.value}"
}

resource "google_kms_crypto_key_iam_member" "checkpoint_public_key" {
  for_each      = local.checkpoint_signers
  crypto_key_id = google_kms_crypto_key.audit_checkpoints.id
  role          = "roles/cloudkms.publicKeyViewer"
  member        = "serviceAccount:${each.value}"
}
