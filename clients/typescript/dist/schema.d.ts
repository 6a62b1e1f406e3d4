export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: 200 while the process serves */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: every dependency answers */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's datasets, newest first */
        get: operations["listDatasets"];
        put?: never;
        /**
         * Upload a table up to 64 MiB (multipart field "file"; format from the file name); parsed and profiled before the answer
         * @description The table is validated before it is ready: a table that cannot be used (not a table, ragged rows, a cell over 1 MiB, fewer than 10 data rows, ...) answers 400 invalid_dataset, with details.row and details.column where they apply, and the dataset is kept as invalid with the reason (GET shows it). A table over 64 MiB is 413: use POST /v1/datasets/uploads.
         */
        post: operations["uploadDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start an upload session for a large table (up to SYNTHOS_MAX_UPLOAD_BYTES, default 5 GiB): a pending dataset and the URL to send its bytes to
         * @description On Cloud Storage upload_url is a resumable upload session the server started (no API key; valid a week): PUT the bytes there in chunks with Content-Range, then POST /v1/datasets/{id}/complete. On object stores without sessions that cannot sign (the local file and memory drivers) it is this API's PUT /v1/datasets/{id}/content, which speaks the same protocol and needs the API key. A declared size over the limit is 413.
         */
        post: operations["beginUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a dataset */
        get: operations["getDataset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Send the bytes of a pending dataset, whole or in chunks (the local stand-in for a Cloud Storage resumable session)
         * @description Without Content-Range the body is the whole file. With Content-Range: bytes START-END/TOTAL (END inclusive; TOTAL may be * until the last chunk) the body is one chunk, a multiple of 256 KiB unless it is the last; START must not be beyond the bytes stored (a retried chunk is accepted and its stored part skipped; a later one is 409 upload_offset_mismatch). bytes *\/TOTAL with no body asks how far the upload is. While bytes are missing the answer is 308 with Range: bytes=0-LAST (no Range when nothing is stored). The request that stores the last byte validates the table: 200 ready, or 400 invalid_dataset. Over the limit is 413.
         */
        put: operations["putDatasetContent"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Finish an upload session: validate the table and mark the dataset ready or invalid
         * @description Validation reads the whole table once, in this request (a few seconds per 100 MiB). A table that cannot be used answers 400 invalid_dataset (details.row, details.column) and the dataset stays invalid. Completing a ready dataset returns it; 409 upload_missing or upload_incomplete while bytes are missing.
         */
        post: operations["completeUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's jobs, newest first, by pages */
        get: operations["listJobs"];
        put?: never;
        /** Create a generation job */
        post: operations["createJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a job */
        get: operations["getJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a job (queued jobs at once, running ones at their next step) */
        post: operations["cancelJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The job's quality and privacy report
         * @description 404 with code not_ready until the report is written.
         */
        get: operations["getReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/output": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A time-limited download URL for the job's synthetic table
         * @description 404 with code not_ready until the job has succeeded. On Cloud Storage url is a V4 signed URL; where the store cannot sign (local file driver) it is GET /v1/jobs/{id}/output/content, which needs the API key (authenticated: true).
         */
        get: operations["getOutput"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/output/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Stream the job's synthetic table */
        get: operations["getOutputContent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's keys (never the secrets) */
        get: operations["listKeys"];
        put?: never;
        /** Create an API key of the caller's tenant (shown once) */
        post: operations["createKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a key
         * @description Takes effect at once on the instance that served it and within the key cache TTL (10 s) on others.
         */
        delete: operations["revokeKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/privacy-budget": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a dataset's differential-privacy budget and its charges
         * @description The cap (epsilon at delta, and as rho-zCDP), what is spent (committed), reserved (held by running dp jobs) and remaining, and every charge, oldest first. Rho adds up across jobs; each epsilon is the matching rho converted at the cap's delta. A dataset whose cap was never set has the default cap (SYNTHOS_DP_BUDGET_EPSILON at SYNTHOS_DP_BUDGET_DELTA).
         */
        get: operations["getPrivacyBudget"];
        /**
         * Set a dataset's differential-privacy budget cap
         * @description Sets the cap to epsilon at delta (delta left out keeps the current one). A cap below what is already spent is allowed and refunds nothing: the remaining budget is then 0, running jobs keep their reservations, and new dp jobs are refused with 409 privacy_budget_exhausted until the cap is raised.
         */
        put: operations["setPrivacyBudget"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the tenant's plan, its limits and this month's usage
         * @description Rows are metered per tenant per calendar month (UTC). A job reserves its rows when it is created (refused with 429 quota_exceeded when they do not fit in what remains, 402 plan_limit when the plan does not allow the request); when it succeeds the rows it produced are counted as used, and when it fails or is cancelled its reservation is released (a failed job costs no quota). remaining is rows_per_month minus used and reserved; the quota resets at resets_at (the first of next month, 00:00 UTC).
         */
        get: operations["getUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's webhook endpoints, oldest first (never their secrets) */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Register a webhook endpoint (its signing secret is shown once)
         * @description Job events (job.queued … job.succeeded, job.failed, job.cancelled) are POSTed to the endpoint following Standard Webhooks: headers webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with the secret). A tenant has at most 20 endpoints (409 webhook_limit).
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a webhook endpoint */
        get: operations["getWebhook"];
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint
         * @description Its delivery log stays (listed, not replayable).
         */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        /**
         * Enable or disable a webhook endpoint
         * @description A disabled endpoint gets no deliveries and its deliveries cannot be replayed; its URL, filter and secrets are kept.
         */
        patch: operations["updateWebhook"];
        trace?: never;
    };
    "/v1/webhooks/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a webhook endpoint's signing secret (the new one is shown once)
         * @description The secrets valid until now stay valid for grace_seconds (0: end at once; at most 7 days); meanwhile every message is signed with each, so receivers can switch without losing messages. An empty body is grace 0.
         */
        post: operations["rotateWebhookSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The delivery log: each event sent to each endpoint, with its latest attempts, latest first */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/deliveries/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a webhook delivery with its latest attempts */
        get: operations["getWebhookDelivery"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/deliveries/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a logged delivery again
         * @description Sends the same body with the same webhook-id (receivers dedupe on it) and a fresh timestamp and signature to the endpoint's current URL, once, and logs the attempt. 200 whatever the endpoint answers: the delivery's status and log say whether it accepted. A deleted endpoint is 404 (code endpoint_deleted), a disabled one 409 (endpoint_disabled).
         */
        post: operations["replayWebhookDelivery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/checkpoint": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the latest signed checkpoint of the tenant's audit log
         * @description Every audit record of the tenant is a leaf of an RFC 6962 Merkle tree. The checkpoint states the tree's size and root hash, signed in the Go checksum database's note format (origin synthos.dev/audit/tenant-<id>). Pin verifier_key from a trusted channel and check the signature with golang.org/x/mod/sumdb/note.
         */
        get: operations["getAuditCheckpoint"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/consistency": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prove that the audit log at one size is a prefix of it at a later size
         * @description An RFC 6962 consistency proof between the signed checkpoints at from and to (default: the latest). It shows no record before from was altered, removed or reordered since; check it with transparency-dev/merkle/proof.VerifyConsistency or `synthos audit verify --consistency`.
         */
        get: operations["getAuditConsistency"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/{seq}/proof": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an audit record with its inclusion proof
         * @description The record numbered seq in the tenant's audit log, the bytes its leaf hashes (leaf), the RFC 6962 inclusion proof of that leaf and the signed checkpoint it leads to: checkable offline with the verifier key (`synthos audit verify --proof`).
         */
        get: operations["getAuditProof"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/encryption": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the tenant's encryption at rest
         * @description Every tenant has its own Tink keysets (AEAD for secrets, streaming AEAD for datasets and models), wrapped by the platform's key-encryption key (Cloud KMS in the cloud). encrypt_data says whether datasets uploaded and models fitted from now on are stored encrypted; keys counts the keys in each keyset (1 + rotations).
         */
        get: operations["getEncryption"];
        /**
         * Turn encryption of datasets and models at rest on or off
         * @description Applies to what is stored from now on; stored objects stay as they are and stay readable either way.
         */
        put: operations["putEncryption"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/encryption/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the tenant's keys
         * @description Adds a new primary key to each of the tenant's keysets. New data is encrypted under it; data encrypted before stays readable under the old keys.
         */
        post: operations["rotateEncryption"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenant": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete the tenant (crypto-shredding)
         * @description Destroys the tenant's keysets first, so everything encrypted for it, including copies in backups, can never be decrypted again; then revokes all its API keys (this one included) and deletes its objects. Irreversible: confirm must repeat the tenant id.
         */
        delete: operations["deleteTenant"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/compliance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The job's GDPR, HIPAA and CCPA compliance evidence
         * @description Built on first request from the job's training rows, holdout and output (released or quarantined), for the regimes of the tenant's policy (SYNTHOS_COMPLIANCE_REGIMES, SYNTHOS_COMPLIANCE_TENANT_REGIMES), then stored. 404 with code not_ready until the job is evaluated; 409 when the job set no holdout aside. Verdicts are ready_for_sign_off, risks_found or not_assessed, never compliant: the report lists what a person must still attest.
         */
        get: operations["getCompliance"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/anonymize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * De-identify a dataset's real rows into a new dataset
         * @description Synchronous: the rows stream through the policy's operators (drop, redact, mask, pseudonym, token, surrogate, date_shift, generalize, top_code, bottom_code, scan; columns without a rule get the default of their profiled kind) and, with k or l, Mondrian k-anonymity with l-diversity over quasi; the result is a new ready CSV dataset. Keys come from the tenant's keyring in the secrets store (secret anonymize-keys-TENANT); the result names the key version. 409 keyring_missing without one; 400 for a policy the table does not fit (unknown column, more than max_suppress rows suppressed).
         */
        post: operations["anonymizeDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/designs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's saved specs */
        get: operations["listDesigns"];
        put?: never;
        /**
         * Design a dataset spec from a description, or check a hand-written one
         * @description With description: one model call (or the offline provider, the default) designs several related tables with distributions, categories, derived columns and business rules in the rules language; the answer is validated against the spec's JSON Schema, its rules compiled and a trial sample drawn (one repair attempt). rows scales the main table. With spec: the spec is validated. With name: the result is saved as the next version. Model calls are metered against the plan's monthly AI budget (429 ai_quota_exceeded).
         */
        post: operations["createDesign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/designs/schema": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The JSON Schema of a dataset spec */
        get: operations["getDesignSchema"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/designs/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a saved spec (latest version, or ?version=N) */
        get: operations["getDesign"];
        /** Save an edited or hand-written spec as the next version */
        put: operations["putDesign"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/designs/{name}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List every version of a saved spec, oldest first */
        get: operations["listDesignVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage analytics: jobs, rows, compute seconds, epsilon and failures over time
         * @description Finished jobs (succeeded, failed, cancelled) are folded into daily aggregates per tenant and dataset by the Analytics consumer of job-events, once per job. Ranges are at most three years.
         */
        get: operations["getAnalyticsUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/quality": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Quality analytics: mean quality score over time and by dataset and model
         * @description Finished jobs (succeeded, failed, cancelled) are folded into daily aggregates per tenant and dataset by the Analytics consumer of job-events, once per job. Ranges are at most three years.
         */
        get: operations["getAnalyticsQuality"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/privacy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Privacy analytics: mean privacy score and epsilon over time and by dataset
         * @description Finished jobs (succeeded, failed, cancelled) are folded into daily aggregates per tenant and dataset by the Analytics consumer of job-events, once per job. Ranges are at most three years.
         */
        get: operations["getAnalyticsPrivacy"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/insights": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Trends, the quota forecast, anomaly flags and recommendations
         * @description Computed from the last 56 days of the tenant's daily aggregates and this month's usage.
         */
        get: operations["getAnalyticsInsights"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Server-sent events of the tenant's running jobs and today's rates
         * @description A text/event-stream: an event named snapshot at once and every interval, whose data is a JSON object: at, running (id, dataset, model, state, rows, shards, shards_done, created_at, running_seconds of each admitted, unfinished job) and today (jobs, failed, rows, jobs_per_hour, rows_per_hour so far, UTC). An event named error carries {"code":"unavailable"} when a snapshot could not be read; the stream goes on.
         */
        get: operations["getAnalyticsLive"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The month's executive report (self-contained HTML)
         * @description One HTML page with no script and no external resource: usage against the plan, rows, quality and privacy over the month, epsilon spent, top datasets, failures by reason, the quota forecast, trends, flags and recommendations. Charts of a month without data are left out.
         */
        get: operations["getAnalyticsReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's model versions, newest first */
        get: operations["listModels"];
        put?: never;
        /**
         * Upload a model (multipart field "file"; optional fields "dataset" and "target" before it); validated before the answer
         * @description Every model is validated before it is ready: the format is sniffed, tree ensembles are parsed fully, every pickle is scanned opcode by opcode (never unpickled) and rejected if it imports or calls anything outside an allow-list, archives are checked for structure, ONNX graphs for opsets and custom operators, and the inputs are matched against the dataset. A rejected model answers 400 model_rejected with the reason and is kept, rejected, for GET to show. Versions count per model name. XGBoost and LightGBM models are served in process (serving: in_process); other frameworks are validated and stored only (serving: validate_and_store).
         */
        post: operations["uploadModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a model version */
        get: operations["getModel"];
        put?: never;
        post?: never;
        /** Delete a model version and its bytes */
        delete: operations["deleteModel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}:predict": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Predict with a ready XGBoost or LightGBM model: JSON rows, or a CSV / JSON Lines / Parquet table streamed back with the prediction as the last column
         * @description 409 model_not_ready for a model that is validating or rejected; 409 not_served for a model that is neither served in process nor deployed (POST /v1/models/{id}:deploy). {"instances": [...]} is proxied to a model deployed on Vertex AI. Each tenant may predict SYNTHOS_PREDICT_ROWS_PER_SECOND rows a second per instance: over it a JSON request is 429 rate_limited with Retry-After, a table stream is paced.
         */
        post: operations["predictModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}:deploy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Deploy a ready scikit-learn, XGBoost-sklearn or TensorFlow SavedModel model to Vertex AI (Model Registry with the matching prebuilt container, a new endpoint); waits for the deployment
         * @description 409 deployment_not_configured when SYNTHOS_VERTEX_REGION is not set (the model is validated and stored only); 409 not_served for a framework without a prebuilt container (PyTorch .pt, ONNX); 409 model_not_ready for a rejected model or one served in process.
         */
        post: operations["deployModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}:test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Test an in-process model on a succeeded job: scores on the real holdout vs the synthetic output, feature drift, prediction distributions, TSTR vs TRTR, one verdict; the report is stored as JSON and HTML beside the model
         * @description 409 job_not_finished unless the job succeeded; 409 not_served for a model not served in process. The target defaults to the model's, then the job's.
         */
        post: operations["testModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/destinations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List storage destinations */
        get: operations["listDestinations"];
        put?: never;
        /**
         * Register a storage destination
         * @description The bucket is verified first (a probe object is written, read back and deleted); a refused step answers 422 destination_unverified naming the missing permission, and nothing is stored.
         */
        post: operations["createDestination"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/destinations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a storage destination */
        get: operations["getDestination"];
        put?: never;
        post?: never;
        /** Delete a storage destination */
        delete: operations["deleteDestination"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/destinations/{id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Verify a storage destination again */
        post: operations["verifyDestination"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage-policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get the tenant's storage policy */
        get: operations["getStoragePolicy"];
        /**
         * Set the tenant's storage policy
         * @description residency makes any job whose input, working copies or outputs would be kept outside the zone fail before it starts (422 residency_violation); primary and secondary route every job's outputs. Where the deployment keeps a platform bucket per residency zone (SYNTHOS_ZONE_BUCKETS), the tenant's residency also picks the bucket its datasets and job files live in; changing it while the tenant has objects in another zone's bucket answers 409 residency_data_elsewhere naming that bucket.
         */
        put: operations["putStoragePolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/storage-policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a dataset's storage policy */
        get: operations["getDatasetStoragePolicy"];
        /** Set a dataset's storage policy */
        put: operations["putDatasetStoragePolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/security/ip-rules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get the tenant's IP allow and deny lists */
        get: operations["getIPRules"];
        /**
         * Replace the tenant's IP allow and deny lists (audited)
         * @description Requests with the tenant's keys from addresses the rules refuse are answered 403 ip_denied. A change that would refuse the caller's own address is 409 would_lock_out. The change is an audit record with the old and new lists.
         */
        put: operations["putIPRules"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import a dataset from a storage destination
         * @description Streams the object from the tenant's own bucket through the upload path (size limit, encryption at rest, validation). A tenant residency policy that the destination or the platform bucket lies outside answers 422 residency_violation before anything is read.
         */
        post: operations["importDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/anonymize/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Describe the tenant's anonymisation keys
         * @description The keyring that keys pseudonyms, surrogates, date shifts (HMAC-SHA-256) and reversible tokens (AES-SIV) of POST /v1/datasets/{id}/anonymize and anonymize jobs: the key version new values use, the versions kept, and where it is stored (rotated: sealed with the tenant's encryption keys in the state store; secrets: the secrets adapter's anonymize-keys-TENANT). No key material. 409 keyring_missing when there is none.
         */
        get: operations["getAnonymizeKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/anonymize/keys/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the tenant's anonymisation keys
         * @description Adds a key version (the first keyring when there is none): pseudonyms, surrogates and date shifts made from now on use a new HMAC key, tokens a new primary AES-SIV key; tokens made before still decrypt (POST /v1/anonymize/detokenize). The keyring is stored sealed with the tenant's encryption keys (503 when the deployment has none: SYNTHOS_KEK_URI). Audited (anonymize.keys_rotated).
         */
        post: operations["rotateAnonymizeKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/anonymize/detokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Re-identify reversible tokens
         * @description Authorised re-identification: each token (operator token, tk_…) decrypted with the tenant's keyring under any key version it keeps, for the policy's domain (default synthos). A token that does not decrypt gets an error instead of a value. Audited with the count only (anonymize.detokenized).
         */
        post: operations["detokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a resumable upload of a custom model (up to 512 MiB): a pending model version and the URL to send its bytes to
         * @description The protocol of POST /v1/datasets/uploads: on Cloud Storage upload_url is a resumable session (no API key), elsewhere this API's PUT /v1/models/{id}/content. The request that stores the last byte validates the model; POST /v1/models/{id}/complete validates bytes sent to a session. A declared size over the limit is 413.
         */
        post: operations["beginModelUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Send the bytes of a pending model version, whole or in chunks (the protocol of PUT /v1/datasets/{id}/content)
         * @description As for datasets: chunks end on multiples of 256 KiB but the last, arrive in order (a retried chunk is accepted, a later one is 409 upload_offset_mismatch), 308 with Range while bytes are missing. The request that stores the last byte validates the model: 200 ready, or 400 model_rejected with the reason. The model is stored encrypted when the tenant chose encryption.
         */
        put: operations["putModelContent"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Validate a model version whose bytes were sent to its upload URL */
        post: operations["completeModelUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/model-test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The test of the custom model pinned to the job (model_id): its scores on the real holdout vs the output, feature drift, prediction distributions, TSTR vs TRTR and the verdict
         * @description 404 not_found for a job without a pinned model; 404 not_ready until the evaluation wrote it (when the test could not run, the evaluation report's model_test.error says why).
         */
        get: operations["getModelTest"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/billing/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open a Paddle checkout for a plan
         * @description Creates a Paddle Billing transaction (POST /transactions) for the plan's Paddle price (pri_…, from the plan catalog), quantity 1, with custom_data.tenant_id set to the caller's tenant, and answers its checkout URL. The plan changes when Paddle's webhook reports the subscription, not here. 409 plan_not_for_sale when the plan has no Paddle price; 503 billing_not_configured naming the secret when the Paddle API key is missing; 502 billing_provider_error when Paddle refuses.
         */
        post: operations["createBillingCheckout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/billing/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open the Stripe customer portal
         * @description Creates a Stripe billing portal session (POST /v1/billing_portal/sessions) for the tenant's Stripe customer, returning to the console's usage page, and answers its URL. 409 no_billing_customer when the tenant has no Stripe subscription; 503 billing_not_configured naming the secret when the Stripe API key is missing; 502 billing_provider_error when Stripe refuses.
         */
        post: operations["createBillingPortal"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Error: {
            error: {
                code: string;
                message: string;
                details?: Record<string, never>;
            };
        };
        Health: {
            /** @constant */
            status: "ok";
        };
        Ready: {
            /** @enum {unknown} */
            status: "ready" | "unready";
            checks: {
                [key: string]: {
                    /** @enum {unknown} */
                    status: "ok" | "error";
                    error?: string;
                    latency_ms: number;
                };
            };
        };
        Dataset: {
            id: string;
            name: string;
            /** @enum {unknown} */
            format: "csv" | "tsv" | "jsonl" | "parquet";
            size: number;
            /**
             * @description pending: bytes still being uploaded; validating: the table is being parsed and profiled; ready: it can be used (rows and columns are set); invalid: it cannot (problem says why, where)
             * @enum {unknown}
             */
            status: "pending" | "validating" | "ready" | "invalid";
            /** @description data rows (set once ready; at least 10) */
            rows?: number;
            /** @description each column's name and inferred kind (set once ready) */
            columns?: components["schemas"]["DatasetColumn"][];
            problem?: components["schemas"]["DatasetProblem"];
            /** @description bytes of a pending upload stored through PUT /v1/datasets/{id}/content */
            received?: number;
            /** Format: date-time */
            created_at: string;
        };
        DatasetList: {
            datasets: components["schemas"]["Dataset"][];
        };
        BeginUpload: {
            /** @description the table's file name; its extension gives the format */
            name: string;
            /** @description the file's size in bytes (optional): over the limit is 413 at once, and on Cloud Storage the session accepts exactly this many bytes */
            size?: number;
        };
        Upload: {
            dataset: components["schemas"]["Dataset"];
            /** Format: uri */
            upload_url: string;
            /** @constant */
            method: "PUT";
            /**
             * @description resumable: PUT the bytes to upload_url whole or in chunks with Content-Range: bytes START-END/TOTAL (TOTAL may be * until the last chunk); while bytes are missing the answer is 308 with Range: bytes=0-LAST; resume after a failure from there (PUT with Content-Range: bytes *\/TOTAL and no body asks). put: one PUT of the whole file (stores that sign URLs without sessions).
             * @enum {unknown}
             */
            protocol: "resumable" | "put";
            headers?: {
                [key: string]: string;
            };
            /** @description a good chunk size (8 MiB); every chunk but the last must be a multiple of 256 KiB */
            chunk_size?: number;
            /** @description the largest table accepted (SYNTHOS_MAX_UPLOAD_BYTES) */
            max_bytes: number;
            /** Format: date-time */
            expires_at: string;
        };
        /** @description A job over a dataset (fitted and sampled), or over a saved spec (design_id: its tables sampled by the engine, rows being the main table's; the job reserves the rows of every table). A design job whose text columns' price would take the tenant past its plan's monthly AI budget is refused with 429 ai_quota_exceeded. */
        JobCreate: {
            /** @description a ready dataset of the tenant */
            dataset?: string;
            /** @description required for synthetic jobs; refused for kind anonymize (it keeps the dataset's rows) */
            rows?: number;
            /**
             * @default tree
             * @enum {unknown}
             */
            model: "tree" | "copula" | "dp";
            /** @description drawn at random and recorded when omitted */
            seed?: number;
            /** @description business rules (constraints) */
            rules?: Record<string, never>;
            /** @description fixed column values (conditional sampling) */
            conditions?: {
                [key: string]: string | number | boolean;
            };
            /** @description privacy budget; required with model dp, refused otherwise */
            epsilon?: number;
            /** @description model dp only */
            delta?: number;
            /**
             * @default csv
             * @enum {unknown}
             */
            format: "csv" | "jsonl" | "parquet";
            /** @description column for ML-efficacy evaluation */
            target?: string;
            /** @description release-gate thresholds */
            thresholds?: Record<string, never>;
            /** @description a storage destination id the outputs are delivered to (overrides the storage policy) */
            destination?: string;
            /** @description the destination that takes over when the primary refuses a write */
            secondary_destination?: string;
            /**
             * @description anonymize: de-identify the dataset's real rows by policy instead of sampling synthetic ones; the holdout is set aside as for synthetic jobs (the same seed, the same split) and the training rows are anonymised into the output, evaluated and reported on like synthetic output; no model, rules, conditions or epsilon
             * @default synthetic
             * @enum {unknown}
             */
            kind: "synthetic" | "anonymize";
            /** @description kind anonymize only */
            policy?: components["schemas"]["AnonymizePolicy"];
            /** @description a saved spec of the tenant (POST/PUT /v1/designs) the job samples instead of a dataset */
            design_id?: string;
            /** @description the spec's version; the latest when omitted (resolved and recorded at admission) */
            design_version?: number;
            /** @description add a short reading of the evaluation report, written through the AI router; every number in it appears in the report */
            narrative?: boolean;
            /** @description label ambiguous columns during profiling through the AI router (names, kinds and masked samples only); stored as the job's labels output */
            labels?: boolean;
            /** @description a custom model of the tenant (POST /v1/models) to score the job's output with: admission checks it exists, is ready, is served in process (XGBoost, LightGBM) and matches the dataset's columns; the evaluation stores its model test with the job (GET /v1/jobs/{id}/model-test) */
            model_id?: string;
            /** @description this version of model_id's model name instead of model_id itself; the job records the exact version's id */
            model_version?: number;
            /** @description per categorical feature (and a class target), its categories in the model's code order; required for categorical features on text or boolean columns */
            model_categories?: {
                [key: string]: string[];
            };
        } | unknown | {
            /** @constant */
            kind: "anonymize";
        } | unknown;
        JobRequest: {
            dataset: string;
            rows: number;
            /**
             * @description empty for kind anonymize
             * @enum {unknown}
             */
            model: "tree" | "copula" | "dp" | "";
            seed: number;
            /** @enum {unknown} */
            format: "csv" | "jsonl" | "parquet";
            rules?: Record<string, never>;
            conditions?: {
                [key: string]: string;
            };
            epsilon?: number;
            delta?: number;
            target?: string;
            thresholds?: Record<string, never>;
            /** @description a storage destination id the outputs are delivered to (overrides the storage policy) */
            destination?: string;
            /** @description the destination that takes over when the primary refuses a write */
            secondary_destination?: string;
            policy?: components["schemas"]["AnonymizePolicy"];
            /** @description a saved spec of the tenant (POST/PUT /v1/designs) the job samples instead of a dataset */
            design_id?: string;
            /** @description the spec's version; the latest when omitted (resolved and recorded at admission) */
            design_version?: number;
            /** @description add a short reading of the evaluation report, written through the AI router; every number in it appears in the report */
            narrative?: boolean;
            /** @description label ambiguous columns during profiling through the AI router (names, kinds and masked samples only); stored as the job's labels output */
            labels?: boolean;
            /** @description the main table's rows asked for (rows is then every table's) */
            design_rows?: number;
            /** @description a custom model of the tenant (POST /v1/models) to score the job's output with: admission checks it exists, is ready, is served in process (XGBoost, LightGBM) and matches the dataset's columns; the evaluation stores its model test with the job (GET /v1/jobs/{id}/model-test) */
            model_id?: string;
            /** @description this version of model_id's model name instead of model_id itself; the job records the exact version's id */
            model_version?: number;
            /** @description per categorical feature (and a class target), its categories in the model's code order; required for categorical features on text or boolean columns */
            model_categories?: {
                [key: string]: string[];
            };
        };
        Job: {
            id: string;
            /** @enum {unknown} */
            state: "queued" | "profiling" | "fitting" | "sampling" | "evaluating" | "succeeded" | "failed" | "cancelled";
            request: components["schemas"]["JobRequest"];
            error?: string;
            /**
             * @description Why the job failed, as a code clients act on: invalid_argument (the request or data cannot work), failed_precondition (e.g. the release gate failed), resource_exhausted (a plan limit or privacy budget), deadline_exceeded (it made no progress after being resumed), unavailable (a step kept failing), internal.
             * @enum {string}
             */
            error_code?: "invalid_argument" | "not_found" | "failed_precondition" | "resource_exhausted" | "unavailable" | "deadline_exceeded" | "canceled" | "internal" | "unimplemented" | "too_large" | "unknown";
            reasons?: string[];
            cancel_requested: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            links: {
                [key: string]: string;
            };
            /** @description a dp job's privacy budget, as rho-zCDP reserved on its dataset when it was created (see GET /v1/datasets/{id}/privacy-budget) */
            dp_rho?: number;
            /** @description the dataset rows the model was fitted on, once the job has read its dataset: fewer than rows_total when the dataset was larger than the sample budget and the model saw a seeded, stratified sample (rare categories and numeric tails kept) */
            rows_seen?: number;
            /** @description the dataset rows the job read, once it has read them */
            rows_total?: number;
            route?: {
                primary?: string;
                secondary?: string;
                has_secondary?: boolean;
            };
            residency?: string;
            locations?: {
                [key: string]: {
                    destination?: string;
                    key?: string;
                    failover?: boolean;
                };
            };
            /** @enum {unknown} */
            kind?: "synthetic" | "anonymize";
            /** @description what an anonymize job did, once its rows are written: rows, actions per column, key_version, k_anonymity (classes, min_class_size, min_diversity, suppressed_rows, discernibility, gil), columns */
            anonymization?: Record<string, never>;
            /** @description the job's model use (text columns, labels, narrative): estimate_micros priced before it ran, the rest used while it ran (US dollars x 10^6, tokens) */
            ai?: {
                estimate_micros?: number;
                cost_micros?: number;
                calls?: number;
                cache_hits?: number;
                input_tokens?: number;
                output_tokens?: number;
            };
        };
        JobList: {
            jobs: components["schemas"]["Job"][];
            /** @description empty on the last page */
            next_cursor: string;
        };
        Download: {
            /** Format: uri */
            url: string;
            /** Format: date-time */
            expires_at: string;
            /** @description true when url is this API's endpoint and needs the API key */
            authenticated: boolean;
        };
        KeyCreate: {
            name?: string;
            /**
             * @default [
             *       "read"
             *     ]
             */
            scopes: ("read" | "write" | "admin")[];
            /** @description sk_test_ key */
            test?: boolean;
        };
        Key: {
            id: string;
            name?: string;
            scopes: ("read" | "write" | "admin")[];
            live: boolean;
            display: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            revoked_at?: string;
        };
        KeyCreated: {
            id: string;
            name?: string;
            scopes: ("read" | "write" | "admin")[];
            live: boolean;
            display: string;
            /** Format: date-time */
            created_at: string;
            key: string;
        };
        KeyList: {
            keys: components["schemas"]["Key"][];
        };
        PrivacyBudgetCap: {
            /** @description the cap, e.g. 10 */
            epsilon: number;
            /** @description the cap's delta (default: the current one) */
            delta?: number;
        };
        PrivacyCharge: {
            id: string;
            job: string;
            rho: number;
            epsilon: number;
            /**
             * @description reserved: the job runs; committed: spent; released: refunded (the job failed or was cancelled before its model was fitted)
             * @enum {unknown}
             */
            state: "reserved" | "committed" | "released";
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            settled_at?: string;
        };
        PrivacyBudget: {
            dataset: string;
            cap_epsilon: number;
            delta: number;
            cap_rho: number;
            spent_rho: number;
            spent_epsilon: number;
            reserved_rho: number;
            reserved_epsilon: number;
            remaining_rho: number;
            remaining_epsilon: number;
            /** Format: date-time */
            updated_at?: string;
            charges: components["schemas"]["PrivacyCharge"][];
        };
        Usage: {
            /** @description the tenant's plan (free without an entitling subscription) */
            plan: string;
            /** @description the usage month, yyyy-mm (UTC) */
            month: string;
            limits: {
                rows_per_month: number;
                rows_per_job: number;
                concurrent_jobs: number;
                dp_allowed: boolean;
            };
            /** @description rows produced by jobs that succeeded this month */
            used: number;
            /** @description rows held by accepted jobs that have not finished */
            reserved: number;
            /** @description rows a new job may still ask for this month */
            remaining: number;
            /** @description the tenant's unfinished jobs, counted against concurrent_jobs */
            running_jobs: number;
            /**
             * Format: date-time
             * @description when the monthly quota resets (first of next month, 00:00 UTC)
             */
            resets_at: string;
            /** @description this month's model calls (design, text columns, labels, narratives) against the plan's monthly AI budget (the plan's ai_budget_usd, or SYNTHOS_AI_BUDGETS' override); budget and remaining are absent when the plan has none */
            ai?: {
                calls: number;
                cache_hits: number;
                input_tokens: number;
                output_tokens: number;
                /** @description US dollars x 10^6 */
                cost_micros: number;
                budget_micros?: number;
                remaining_micros?: number;
                /** @description what admitted, unfinished jobs hold of the budget (their priced AI use, reserved at admission and released when they finish); counted out of remaining_micros */
                reserved_micros?: number;
            };
        };
        WebhookCreate: {
            /** @description where webhooks are POSTed: https, resolving to a public address (private, loopback, link-local and metadata addresses are refused); no credentials or fragment */
            url: string;
            description?: string;
            /** @description the job event types sent, e.g. job.succeeded; job.* or * for every type; empty or absent: every type */
            event_types?: string[];
        };
        WebhookEndpoint: {
            id: string;
            url: string;
            description?: string;
            /** @description empty: every type */
            event_types: string[];
            enabled: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        WebhookEndpointCreated: {
            id: string;
            url: string;
            description?: string;
            /** @description empty: every type */
            event_types: string[];
            enabled: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description the signing secret (Standard Webhooks); shown this once */
            secret: string;
        };
        WebhookList: {
            webhooks: components["schemas"]["WebhookEndpoint"][];
        };
        WebhookPatch: {
            /** @description false stops deliveries to the endpoint (and replays) until it is true again */
            enabled: boolean;
        };
        WebhookRotate: {
            /**
             * @description how long the secrets valid until now stay valid; meanwhile every message carries a signature for each
             * @default 0
             */
            grace_seconds: number;
        };
        WebhookSecret: {
            endpoint: components["schemas"]["WebhookEndpoint"];
            /** @description the new signing secret; shown this once */
            secret: string;
        };
        WebhookAttempt: {
            attempt: number;
            status_code?: number;
            latency_ms: number;
            error?: string;
            /** @description the start of the endpoint's answer */
            response?: string;
            /** @description the SSRF guard refused the address; nothing was sent */
            blocked?: boolean;
            replay?: boolean;
            /** Format: date-time */
            at: string;
        };
        WebhookDelivery: {
            /** @description the webhook-id header: the same on every retry and replay */
            id: string;
            endpoint_id: string;
            event_id: string;
            event_type: string;
            /** @description the exact body sent */
            payload: string;
            /**
             * @description failing: the latest attempt failed (retried by Pub/Sub, or replay it); failed: refused by the SSRF guard, not retried
             * @enum {unknown}
             */
            status: "pending" | "succeeded" | "failing" | "failed";
            /** @description every attempt made, replays included */
            attempts: number;
            /** @description of the latest attempt */
            status_code?: number;
            latency_ms: number;
            /** @description of the latest attempt */
            error?: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            last_at: string;
            /** @description the latest attempts (up to 20), oldest first */
            log: components["schemas"]["WebhookAttempt"][];
        };
        WebhookDeliveryList: {
            deliveries: components["schemas"]["WebhookDelivery"][];
        };
        DatasetColumn: {
            name: string;
            /** @enum {unknown} */
            kind: "numeric" | "categorical" | "boolean" | "datetime" | "id" | "text" | "pii";
            /** @description the kind of personal data of a pii column (email, phone, name, ...) */
            pii?: string;
            /** @description cells with no value (blank, or a spelling of missing such as NA, null, N/A, NaN, ?, -), counted over every row when the dataset was validated */
            missing?: number;
        };
        /** @description why a dataset is invalid */
        DatasetProblem: {
            /** @description what is wrong and how to fix it */
            message: string;
            /** @description the 1-based data row (absent: the file as a whole or its header) */
            row?: number;
            /** @description the column's name, when known */
            column?: string;
        };
        AuditCheckpoint: {
            log: string;
            size: number;
            /** @description the signed note */
            checkpoint: string;
            verifier_key: string;
        };
        AuditRecord: {
            id: string;
            tenant: string;
            actor?: string;
            action: string;
            resource?: string;
            outcome?: string;
            details?: {
                [key: string]: string;
            };
            trace_id?: string;
            /** Format: date-time */
            at: string;
            seq: number;
            global: number;
            day: string;
            /** Format: date-time */
            stored_at: string;
        };
        AuditProof: {
            log: string;
            seq: number;
            index: number;
            tree_size: number;
            record: components["schemas"]["AuditRecord"];
            /** @description the bytes the leaf hash covers (SHA-256 of 0x00 || leaf) */
            leaf: string;
            leaf_hash: string;
            proof: string[] | null;
            checkpoint: string;
            verifier_key: string;
        };
        AuditConsistency: {
            log: string;
            from: number;
            to: number;
            proof: string[] | null;
            from_checkpoint: string;
            to_checkpoint: string;
            verifier_key: string;
        };
        Encryption: {
            tenant: string;
            encrypt_data: boolean;
            keys: number;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            rotated_at?: string;
        };
        TenantDeletion: {
            tenant: string;
            keys_destroyed: boolean;
            api_keys_revoked: number;
            objects_deleted: number;
        };
        AnonymizePolicy: {
            /** @description rules by column name: op and its options (keep_last, kind, width, date, zip3, hierarchy, top, bottom, max_shift_days, layout) */
            columns?: {
                [key: string]: Record<string, never>;
            };
            no_defaults?: boolean;
            quasi?: string[];
            sensitive?: string[];
            k?: number;
            l?: number;
            max_suppress?: number;
            entity?: string;
            domain?: string;
        };
        Anonymized: {
            dataset: components["schemas"]["Dataset"];
            /** @description rows, actions per column, key_version, k_anonymity (classes, min_class_size, min_diversity, suppressed_rows, discernibility, gil), columns */
            result: Record<string, never>;
        };
        Design: {
            name?: string;
            version?: number;
            /** @enum {unknown} */
            source?: "designed" | "hand" | "profile";
            /** Format: date-time */
            created_at?: string;
            /** @description a dataset spec; its JSON Schema is served at GET /v1/designs/schema */
            spec: Record<string, never>;
            /** @description who designed it: offline, gemini, claude or claude-vertex */
            provider?: string;
            model?: string;
            usage?: {
                input_tokens?: number;
                output_tokens?: number;
            };
            /** @description US dollars x 10^6 charged to the tenant's AI budget */
            cost_micros?: number;
            /** @description the design check's score, 0..1 */
            score?: number;
        };
        DesignHead: {
            tenant: string;
            name: string;
            latest: number;
            /** Format: date-time */
            updated_at?: string;
        };
        /** @description Daily aggregates of finished jobs summed into buckets (every period of the range, empty ones included) and per dataset. The figures of a bucket depend on the view: usage has succeeded, failed, cancelled, rows, compute_seconds (admission to end), epsilon, failures (by error code) and cost_usd, compute_cost_usd, ai_cost_usd; quality has quality (mean overall quality score of the evaluated jobs, null without one) and failed; privacy has privacy (mean privacy score: 1 when synthetic rows are no closer to the training rows than to the holdout, falling to 0 when all are) and epsilon. */
        Analytics: {
            /** @enum {string} */
            view: "usage" | "quality" | "privacy";
            /** @enum {string} */
            scope: "tenant" | "platform";
            /** Format: date */
            from: string;
            /** Format: date */
            to: string;
            /** @enum {string} */
            granularity: "day" | "week" | "month";
            buckets: {
                /** Format: date */
                start: string;
                jobs: number;
                succeeded?: number;
                failed?: number;
                cancelled?: number;
                rows?: number;
                compute_seconds?: number;
                epsilon?: number;
                /** @description compute_cost_usd + ai_cost_usd (usage view) */
                cost_usd?: number;
                /** @description Estimated compute cost in US dollars: each job's run time (admission to end) times the price of one instance-second (SYNTHOS_COST_VCPUS x SYNTHOS_COST_VCPU_SECOND + SYNTHOS_COST_GIB x SYNTHOS_COST_GIB_SECOND) */
                compute_cost_usd?: number;
                /** @description What the jobs' model calls cost, in US dollars */
                ai_cost_usd?: number;
                failures?: {
                    [key: string]: number;
                };
                quality?: number | null;
                privacy?: number | null;
            }[];
            datasets: {
                [key: string]: {
                    jobs?: number;
                    failed?: number;
                    rows?: number;
                    epsilon?: number;
                    quality?: number | null;
                    privacy?: number | null;
                    /** @description The dataset's cost over the range (estimated compute + AI), in US dollars (usage view) */
                    cost_usd?: number;
                    by_model?: {
                        [key: string]: {
                            mean?: number | null;
                            jobs?: number;
                        };
                    };
                };
            };
        };
        /** @description Trends compare the last 7 and 28 days with the periods before them. quota_exhaustion forecasts when the month's rows (used and reserved) reach the plan's rows_per_month, from Holt's linear method on the last 28 days' daily rows: date is the point forecast, earliest and latest where the summed 80% bounds reach the limit. Flags: quality_drop (7-day mean quality at least 0.05 under the 28 days before), failure_spike (at least 3 failures and twice the earlier failure rate), epsilon_burn (7-day epsilon at twice the earlier daily rate). Recommendations carry their evidence. */
        Insights: {
            /** Format: date */
            as_of: string;
            trends: {
                days?: number;
                rows?: number;
                prev_rows?: number;
                change?: number | null;
                quality?: number | null;
                failed?: number;
                jobs?: number;
                /** @description US dollars (estimated compute + AI) of the last days */
                cost_usd?: number;
                prev_cost_usd?: number;
                cost_change?: number | null;
            }[];
            quota_exhaustion?: {
                reached?: boolean;
                /** Format: date-time */
                date?: string;
                /** Format: date-time */
                earliest?: string;
                /** Format: date-time */
                latest?: string;
                plus_minus_days?: number;
            };
            flags: {
                /** @enum {string} */
                kind?: "quality_drop" | "failure_spike" | "epsilon_burn";
                message?: string;
                evidence?: string;
            }[];
            recommendations: {
                dataset?: string;
                message?: string;
                evidence?: string;
            }[];
        };
        ModelInput: {
            name: string;
            /** @description numeric | categorical, or the framework's type (float32...) */
            kind?: string;
        };
        ModelFinding: {
            file?: string;
            offset: number;
            op?: string;
            global?: string;
            reason: string;
        };
        ModelMatch: {
            missing?: string[];
            extra?: string[];
            mismatched?: string[];
        };
        Model: {
            id: string;
            name: string;
            version: number;
            size: number;
            /**
             * @description pending: bytes being uploaded (POST /v1/models/uploads); validating: being checked; ready: accepted; rejected: reason says why
             * @enum {unknown}
             */
            status: "pending" | "validating" | "ready" | "rejected";
            reason?: string;
            framework?: string;
            format?: string;
            task?: string;
            /** @enum {unknown} */
            serving: "in_process" | "validate_and_store" | "vertex_ai";
            inputs?: components["schemas"]["ModelInput"][];
            dataset?: string;
            target?: string;
            match?: components["schemas"]["ModelMatch"];
            findings?: components["schemas"]["ModelFinding"][];
            /** Format: date-time */
            created_at: string;
            deployment?: {
                model: string;
                endpoint: string;
                deployed_model_id: string;
                image: string;
                artifact_uri: string;
            };
            /** @description bytes of a pending upload stored so far */
            received?: number;
        };
        ModelList: {
            models: components["schemas"]["Model"][];
        };
        PredictRequest: {
            /** @description in-process models: one object per row keyed by feature name; null for a missing value; categories as integer codes */
            rows?: {
                [key: string]: number | string | null;
            }[];
            /** @description models deployed on Vertex AI: instances in the container's input format (e.g. arrays of feature values), passed through */
            instances?: unknown[];
        };
        PredictResponse: {
            model: string;
            outputs?: string[];
            /** @description per row: the outputs named by outputs (in process), or what the Vertex AI container returns */
            predictions: unknown[];
        };
        ModelTestRequest: {
            job: string;
            target?: string;
            /** @description per column, its categories in code order (categorical features, a class target) */
            categories?: {
                [key: string]: string[];
            };
        };
        ModelTest: {
            version: number;
            model: string;
            framework?: string;
            task: string;
            target: string;
            metrics: {
                name: string;
                real: number;
                synthetic: number;
                gap: number;
            }[];
            drift: Record<string, never>[];
            predictions: Record<string, never>;
            tstr?: Record<string, never>;
            verdict: {
                faithful: boolean;
                /** @enum {unknown} */
                level: "good" | "fair" | "poor";
                title: string;
                text: string;
                reasons?: string[];
            };
        };
        DestinationCreate: {
            name: string;
            /** @description gs://BUCKET[/PREFIX], s3://BUCKET[/PREFIX] or azblob://CONTAINER[/PREFIX] */
            url: string;
            /** @description where the bucket lives, e.g. europe-west1, eu-central-1, westeurope, EU */
            region: string;
            /** @description an https endpoint of an S3-compatible store or an Azure account */
            endpoint?: string;
            /** @description the fields of one provider; stored sealed under the tenant's key and never returned */
            credential?: {
                /** @description a service-account key or workload identity federation (external_account) configuration */
                google_credentials_json?: Record<string, never>;
                access_key_id?: string;
                secret_access_key?: string;
                session_token?: string;
                role_arn?: string;
                external_id?: string;
                connection_string?: string;
                sas_url?: string;
            };
        };
        Destination: {
            id?: string;
            tenant?: string;
            name?: string;
            url?: string;
            region?: string;
            endpoint?: string;
            credential_kind?: string;
            /** Format: date-time */
            created?: string;
            /** Format: date-time */
            verified_at?: string;
        };
        DestinationList: {
            destinations?: components["schemas"]["Destination"][];
        };
        StoragePolicy: {
            /** @enum {unknown} */
            residency?: "" | "eu" | "uk" | "ch" | "us" | "ca" | "sa" | "asia" | "au" | "me" | "af";
            primary?: string;
            secondary?: string;
            has_secondary?: boolean;
        };
        /** @description The tenant's IP rules: when allow is non-empty only its addresses may use the tenant's keys; deny wins over allow. CIDRs or bare addresses, stored in canonical (masked) form; at most 256 in all. */
        IPRules: {
            allow: string[];
            deny: string[];
            /** Format: date-time */
            updated_at?: string;
            /** @description the key that made the change, as key:<id> */
            updated_by?: string;
        };
        IPRulesInput: {
            allow?: string[];
            deny?: string[];
        };
        DatasetImport: {
            /** @description a storage destination id */
            destination: string;
            /** @description the object inside the destination (under its prefix), e.g. exports/customers.csv */
            key: string;
            /** @description the dataset's name; default the key's last element, whose extension gives the format */
            name?: string;
        };
        AnonymizeKeys: {
            /** @description the keys new values use, as job results and compliance reports state it (hmac vN, aes-siv key ID) */
            key_version: string;
            hmac_version: number;
            hmac_versions: number[];
            /** @description AES-SIV key ids kept: tokens made under any of them decrypt */
            token_keys: number[];
            token_primary: number;
            /** @enum {unknown} */
            source: "rotated" | "secrets";
            /** Format: date-time */
            rotated_at?: string;
        };
        DetokenizeRequest: {
            tokens: string[];
            /** @description the policy's domain (default synthos) */
            domain?: string;
        };
        Detokenized: {
            values: {
                token: string;
                value?: string;
                error?: string;
            }[];
        };
        ModelUpload: {
            model: components["schemas"]["Model"];
            upload_url: string;
            /** @constant */
            method: "PUT";
            /** @enum {unknown} */
            protocol: "resumable" | "put";
            headers?: {
                [key: string]: string;
            };
            chunk_size?: number;
            max_bytes: number;
            /** Format: date-time */
            expires_at: string;
        };
        BeginModelUpload: {
            /** @description the model's file name (its extension helps format sniffing) */
            name: string;
            /** @description the file's size in bytes, when known */
            size?: number;
            /** @description the dataset the model belongs to: its inputs are matched against its columns */
            dataset?: string;
            /** @description the column the model predicts */
            target?: string;
        };
        BillingCheckoutRequest: {
            /**
             * @description a plan of the catalog (GET /v1/usage names the current one)
             * @example pro
             */
            plan: string;
        };
        BillingLink: {
            /** @enum {string} */
            provider: "paddle" | "stripe";
            /**
             * Format: uri
             * @description open it in the browser: the provider's checkout or customer portal
             */
            url: string;
            /** @description the plan being bought (checkout) */
            plan?: string;
            /** @description Paddle's transaction (txn_…), for checkout */
            transaction_id?: string;
        };
    };
    responses: {
        /** @description invalid request; details.field names the field. Code invalid_dataset: the table cannot be used; the message says why and how to fix it, details.dataset, details.row and details.column say where */
        E400: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description missing, malformed, unknown or revoked API key */
        E401: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the tenant's plan does not allow this (upgrade) */
        E402: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the key lacks the scope (x-required-scope) */
        E403: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description no such resource for this tenant (another tenant's ids are 404 too); code not_ready while a report or output is not there yet */
        E404: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description method not allowed on this path (Allow header) */
        E405: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description conflict: a finished job, a dataset not ready, an upload chunk that starts beyond the bytes stored (upload_offset_mismatch, details.received), completing an upload with bytes missing (upload_incomplete, upload_missing), a request with the same Idempotency-Key in progress, or (code privacy_budget_exhausted) a dp job beyond the dataset's privacy budget, with details remaining_epsilon, remaining_rho, delta, requested_epsilon and requested_rho; nothing is spent */
        E409: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description body or table too large: the message names the limit (details.limit_bytes) and, for POST /v1/datasets, the upload session for larger tables */
        E413: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description unsupported media type or table format */
        E415: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Idempotency-Key reused with a different request */
        E422: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description quota exhausted: the message names the limit (e.g. rows_per_month) and when it resets; details.limit, details.plan and details.resets_at say the same (see GET /v1/usage) */
        E429: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description generation paused by the spend guard, or a dependency unavailable (Retry-After) */
        E503: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        /** @description 1 to 255 printable characters; answers are replayed for 24 h */
        IdempotencyKey: string;
        Limit: number;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description alive */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            405: components["responses"]["E405"];
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ready"];
                };
            };
            405: components["responses"]["E405"];
            /** @description a dependency failed */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ready"];
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the OpenAPI 3.1 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            405: components["responses"]["E405"];
        };
    };
    listDatasets: {
        parameters: {
            query?: {
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the datasets */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DatasetList"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    uploadDataset: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description the table: .csv, .tsv, .jsonl, .ndjson or .parquet */
                    file: string;
                };
            };
        };
        responses: {
            /** @description stored, validated and ready */
            201: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    beginUpload: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BeginUpload"];
            };
        };
        responses: {
            /** @description pending dataset and upload URL */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getDataset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the dataset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    putDatasetContent: {
        parameters: {
            query?: never;
            header?: {
                /** @description bytes START-END/TOTAL, bytes START-END/*, or bytes *\/TOTAL */
                "Content-Range"?: string;
            };
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description every byte is stored and the table validated and ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description chunk stored; more bytes expected (Range: bytes=0-LAST says what is stored) */
            308: {
                headers: {
                    Range?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            503: components["responses"]["E503"];
        };
    };
    completeUpload: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description validated and ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    listJobs: {
        parameters: {
            query?: {
                limit?: components["parameters"]["Limit"];
                /** @description next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of jobs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createJob: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JobCreate"];
            };
        };
        responses: {
            /** @description queued */
            202: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            402: components["responses"]["E402"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            429: components["responses"]["E429"];
            503: components["responses"]["E503"];
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description cancel recorded */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getReport: {
        parameters: {
            query?: {
                format?: "json" | "html";
            };
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                    "text/html": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getOutput: {
        parameters: {
            query?: {
                /** @description a design job's table other than its main one (404 names the tables) */
                table?: string;
            };
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description download URL */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Download"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getOutputContent: {
        parameters: {
            query?: {
                /** @description a design job's table other than its main one (404 names the tables) */
                table?: string;
            };
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the table */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                    "application/x-ndjson": string;
                    "application/vnd.apache.parquet": string;
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    listKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeyList"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createKey: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["KeyCreate"];
            };
        };
        responses: {
            /** @description the key; store it now */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeyCreated"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    revokeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the key id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description revoked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getPrivacyBudget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the budget */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PrivacyBudget"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    setPrivacyBudget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PrivacyBudgetCap"];
            };
        };
        responses: {
            /** @description the budget with its new cap */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PrivacyBudget"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    getUsage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the plan and usage */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Usage"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    listWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the endpoints */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookList"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookCreate"];
            };
        };
        responses: {
            /** @description the endpoint and its signing secret; store the secret now */
            201: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointCreated"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the endpoint id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the endpoint */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the endpoint id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the deleted endpoint as it was */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    updateWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the endpoint id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookPatch"];
            };
        };
        responses: {
            /** @description the endpoint */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    rotateWebhookSecret: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the endpoint id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["WebhookRotate"];
            };
        };
        responses: {
            /** @description the endpoint and its new secret */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookSecret"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @description only this endpoint's deliveries (deleted endpoints' too) */
                endpoint?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the deliveries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryList"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getWebhookDelivery: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the delivery id (the webhook-id header) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the delivery */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDelivery"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    replayWebhookDelivery: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the delivery id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the delivery with the replay logged */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDelivery"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getAuditCheckpoint: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the checkpoint */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditCheckpoint"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAuditConsistency: {
        parameters: {
            query: {
                /** @description the earlier log size */
                from: number;
                /** @description the later log size (default: the current size) */
                to?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the proof and both checkpoints */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditConsistency"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAuditProof: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the record number, from 1 */
                seq: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the record and its proof */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditProof"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getEncryption: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the encryption state */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Encryption"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    putEncryption: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    encrypt_data: boolean;
                };
            };
        };
        responses: {
            /** @description the encryption state */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Encryption"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    rotateEncryption: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the encryption state */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Encryption"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    deleteTenant: {
        parameters: {
            query: {
                /** @description the tenant id, repeated */
                confirm: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description what was deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantDeletion"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    getCompliance: {
        parameters: {
            query?: {
                format?: "json" | "html";
            };
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the compliance report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                    "text/html": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    anonymizeDataset: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnonymizePolicy"];
            };
        };
        responses: {
            /** @description the new dataset and what was done */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Anonymized"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    listDesigns: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description saved specs and their latest versions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        designs: components["schemas"]["DesignHead"][];
                    };
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createDesign: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    description?: string;
                    rows?: number;
                    name?: string;
                    spec?: Record<string, never>;
                };
            };
        };
        responses: {
            /** @description the spec */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Design"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            415: components["responses"]["E415"];
            429: components["responses"]["E429"];
            503: components["responses"]["E503"];
        };
    };
    getDesignSchema: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the JSON Schema (draft 2020-12) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/schema+json": Record<string, never>;
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
        };
    };
    getDesign: {
        parameters: {
            query?: {
                version?: number;
            };
            header?: never;
            path: {
                /** @description the saved spec's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the spec */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Design"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    putDesign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the saved spec's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    spec: Record<string, never>;
                };
            };
        };
        responses: {
            /** @description the saved version */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Design"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    listDesignVersions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the saved spec's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the versions (without their specs) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        versions: {
                            tenant?: string;
                            name: string;
                            version: number;
                            /** Format: date-time */
                            created_at?: string;
                            source?: string;
                            spec?: unknown;
                        }[];
                    };
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsUsage: {
        parameters: {
            query?: {
                /** @description first day (YYYY-MM-DD, UTC); default 29 days before to */
                from?: string;
                /** @description last day (YYYY-MM-DD, UTC), inclusive; default today */
                to?: string;
                /** @description bucket width: day (default), week (ISO, from Monday) or month */
                granularity?: "day" | "week" | "month";
                /** @description only this dataset */
                dataset?: string;
                /** @description tenant (default) or platform: every tenant's figures, for admin keys of the tenants in SYNTHOS_PLATFORM_ADMIN_TENANTS */
                scope?: "tenant" | "platform";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the buckets and per-dataset totals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analytics"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsQuality: {
        parameters: {
            query?: {
                /** @description first day (YYYY-MM-DD, UTC); default 29 days before to */
                from?: string;
                /** @description last day (YYYY-MM-DD, UTC), inclusive; default today */
                to?: string;
                /** @description bucket width: day (default), week (ISO, from Monday) or month */
                granularity?: "day" | "week" | "month";
                /** @description only this dataset */
                dataset?: string;
                /** @description tenant (default) or platform: every tenant's figures, for admin keys of the tenants in SYNTHOS_PLATFORM_ADMIN_TENANTS */
                scope?: "tenant" | "platform";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the buckets and per-dataset totals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analytics"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsPrivacy: {
        parameters: {
            query?: {
                /** @description first day (YYYY-MM-DD, UTC); default 29 days before to */
                from?: string;
                /** @description last day (YYYY-MM-DD, UTC), inclusive; default today */
                to?: string;
                /** @description bucket width: day (default), week (ISO, from Monday) or month */
                granularity?: "day" | "week" | "month";
                /** @description only this dataset */
                dataset?: string;
                /** @description tenant (default) or platform: every tenant's figures, for admin keys of the tenants in SYNTHOS_PLATFORM_ADMIN_TENANTS */
                scope?: "tenant" | "platform";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the buckets and per-dataset totals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analytics"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsInsights: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the insights */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Insights"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsLive: {
        parameters: {
            query?: {
                /** @description time between snapshots, a Go duration from 500ms to 1m (default 2s) */
                interval?: string;
                /** @description end the stream after this many events */
                max?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the event stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    getAnalyticsReport: {
        parameters: {
            query?: {
                /** @description YYYY-MM (default this month, UTC) */
                month?: string;
                /** @description tenant (default) or platform (admin keys of SYNTHOS_PLATFORM_ADMIN_TENANTS) */
                scope?: "tenant" | "platform";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the model versions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelList"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    uploadModel: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description the dataset the model belongs to: its inputs are matched against the dataset's columns */
                    dataset?: string;
                    /** @description the column the model predicts */
                    target?: string;
                    /** @description XGBoost JSON/UBJSON, LightGBM text, scikit-learn pickle/joblib, PyTorch (.pt zip), TorchScript, TensorFlow SavedModel (zip or tar), ONNX */
                    file: string;
                };
            };
        };
        responses: {
            /** @description stored, validated and ready */
            201: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the model */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    deleteModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    predictModel: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PredictRequest"];
                "text/csv": string;
                "application/x-ndjson": string;
                "application/vnd.apache.parquet": string;
            };
        };
        responses: {
            /** @description the predictions: JSON for JSON rows, otherwise the table in the request's format with the output columns appended (p_0.. then prediction for multiclass) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PredictResponse"];
                    "text/csv": string;
                    "application/x-ndjson": string;
                    "application/vnd.apache.parquet": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            429: components["responses"]["E429"];
            503: components["responses"]["E503"];
        };
    };
    deployModel: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deployed: the model with its deployment */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    testModel: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ModelTestRequest"];
            };
        };
        responses: {
            /** @description the model test report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelTest"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    listDestinations: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the tenant's destinations */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DestinationList"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createDestination: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DestinationCreate"];
            };
        };
        responses: {
            /** @description verified and stored */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the destination id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the destination */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    deleteDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the destination id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted; objects already delivered stay */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    verifyDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the destination id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description verified */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getStoragePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoragePolicy"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    putStoragePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StoragePolicy"];
            };
        };
        responses: {
            /** @description the stored policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoragePolicy"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getDatasetStoragePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoragePolicy"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    putDatasetStoragePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the dataset id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StoragePolicy"];
            };
        };
        responses: {
            /** @description the stored policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoragePolicy"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getIPRules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rules */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IPRules"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            429: components["responses"]["E429"];
            503: components["responses"]["E503"];
        };
    };
    putIPRules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["IPRulesInput"];
            };
        };
        responses: {
            /** @description the rules as stored */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IPRules"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            429: components["responses"]["E429"];
            503: components["responses"]["E503"];
        };
    };
    importDataset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DatasetImport"];
            };
        };
        responses: {
            /** @description imported and validated */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            503: components["responses"]["E503"];
        };
    };
    getAnonymizeKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the keyring, without key material */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnonymizeKeys"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    rotateAnonymizeKeys: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rotated keyring, without key material */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnonymizeKeys"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            503: components["responses"]["E503"];
        };
    };
    detokenize: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DetokenizeRequest"];
            };
        };
        responses: {
            /** @description the values, in the tokens' order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Detokenized"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    beginModelUpload: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BeginModelUpload"];
            };
        };
        responses: {
            /** @description pending model version and upload URL */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelUpload"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            503: components["responses"]["E503"];
        };
    };
    putModelContent: {
        parameters: {
            query?: never;
            header?: {
                /** @description bytes START-END/TOTAL, bytes START-END/*, or bytes *\/TOTAL */
                "Content-Range"?: string;
            };
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description every byte is stored and the model validated and ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description chunk stored; more bytes expected (Range: bytes=0-LAST says what is stored) */
            308: {
                headers: {
                    Range?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            503: components["responses"]["E503"];
        };
    };
    completeModelUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the model id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description validated and ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            503: components["responses"]["E503"];
        };
    };
    getModelTest: {
        parameters: {
            query?: {
                format?: "json" | "html";
            };
            header?: never;
            path: {
                /** @description the job id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the model test (shared/modeleval report) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                    "text/html": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            405: components["responses"]["E405"];
            503: components["responses"]["E503"];
        };
    };
    createBillingCheckout: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BillingCheckoutRequest"];
            };
        };
        responses: {
            /** @description the checkout link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BillingLink"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            /** @description the provider refused or failed to create the link (its message is in error.message) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            503: components["responses"]["E503"];
        };
    };
    createBillingPortal: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1 to 255 printable characters; answers are replayed for 24 h */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the portal link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BillingLink"];
                };
            };
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            405: components["responses"]["E405"];
            409: components["responses"]["E409"];
            /** @description the provider refused or failed to create the link (its message is in error.message) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            503: components["responses"]["E503"];
        };
    };
}
