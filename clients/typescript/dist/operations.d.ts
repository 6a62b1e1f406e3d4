/** Operation describes one API operation of the OpenAPI document. */
export interface Operation {
    readonly method: "get" | "put" | "post" | "delete" | "patch" | "head" | "options";
    readonly path: string;
    readonly path_params: readonly string[];
    readonly query: readonly string[];
    readonly headers: readonly string[];
    /** how the request body is sent: none, json, multipart (FormData) or binary (bytes) */
    readonly request: "none" | "json" | "multipart" | "binary";
    /** how a success body is read: json, none, stream (server-sent events) or binary */
    readonly response: "json" | "none" | "stream" | "binary";
}
/** operations maps every operationId of the OpenAPI document to its operation. */
export declare const operations: {
    readonly healthz: {
        readonly method: "get";
        readonly path: "/healthz";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly readyz: {
        readonly method: "get";
        readonly path: "/readyz";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly openapi: {
        readonly method: "get";
        readonly path: "/v1/openapi.json";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly listDatasets: {
        readonly method: "get";
        readonly path: "/v1/datasets";
        readonly path_params: readonly [];
        readonly query: readonly ["limit"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly uploadDataset: {
        readonly method: "post";
        readonly path: "/v1/datasets";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "multipart";
        readonly response: "json";
    };
    readonly beginUpload: {
        readonly method: "post";
        readonly path: "/v1/datasets/uploads";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getDataset: {
        readonly method: "get";
        readonly path: "/v1/datasets/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putDatasetContent: {
        readonly method: "put";
        readonly path: "/v1/datasets/{id}/content";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Content-Range"];
        readonly request: "binary";
        readonly response: "json";
    };
    readonly completeUpload: {
        readonly method: "post";
        readonly path: "/v1/datasets/{id}/complete";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly listJobs: {
        readonly method: "get";
        readonly path: "/v1/jobs";
        readonly path_params: readonly [];
        readonly query: readonly ["limit", "cursor"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly createJob: {
        readonly method: "post";
        readonly path: "/v1/jobs";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getJob: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly cancelJob: {
        readonly method: "post";
        readonly path: "/v1/jobs/{id}/cancel";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getReport: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}/report";
        readonly path_params: readonly ["id"];
        readonly query: readonly ["format"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "binary";
    };
    readonly getOutput: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}/output";
        readonly path_params: readonly ["id"];
        readonly query: readonly ["table"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getOutputContent: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}/output/content";
        readonly path_params: readonly ["id"];
        readonly query: readonly ["table"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "binary";
    };
    readonly listKeys: {
        readonly method: "get";
        readonly path: "/v1/keys";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly createKey: {
        readonly method: "post";
        readonly path: "/v1/keys";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly revokeKey: {
        readonly method: "delete";
        readonly path: "/v1/keys/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getPrivacyBudget: {
        readonly method: "get";
        readonly path: "/v1/datasets/{id}/privacy-budget";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly setPrivacyBudget: {
        readonly method: "put";
        readonly path: "/v1/datasets/{id}/privacy-budget";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getUsage: {
        readonly method: "get";
        readonly path: "/v1/usage";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly listWebhooks: {
        readonly method: "get";
        readonly path: "/v1/webhooks";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly createWebhook: {
        readonly method: "post";
        readonly path: "/v1/webhooks";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getWebhook: {
        readonly method: "get";
        readonly path: "/v1/webhooks/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly deleteWebhook: {
        readonly method: "delete";
        readonly path: "/v1/webhooks/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly updateWebhook: {
        readonly method: "patch";
        readonly path: "/v1/webhooks/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly rotateWebhookSecret: {
        readonly method: "post";
        readonly path: "/v1/webhooks/{id}/rotate";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly listWebhookDeliveries: {
        readonly method: "get";
        readonly path: "/v1/webhooks/deliveries";
        readonly path_params: readonly [];
        readonly query: readonly ["endpoint", "limit"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getWebhookDelivery: {
        readonly method: "get";
        readonly path: "/v1/webhooks/deliveries/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly replayWebhookDelivery: {
        readonly method: "post";
        readonly path: "/v1/webhooks/deliveries/{id}/replay";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAuditCheckpoint: {
        readonly method: "get";
        readonly path: "/v1/audit/checkpoint";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAuditConsistency: {
        readonly method: "get";
        readonly path: "/v1/audit/consistency";
        readonly path_params: readonly [];
        readonly query: readonly ["from", "to"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAuditProof: {
        readonly method: "get";
        readonly path: "/v1/audit/{seq}/proof";
        readonly path_params: readonly ["seq"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getEncryption: {
        readonly method: "get";
        readonly path: "/v1/encryption";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putEncryption: {
        readonly method: "put";
        readonly path: "/v1/encryption";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly rotateEncryption: {
        readonly method: "post";
        readonly path: "/v1/encryption/rotate";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly deleteTenant: {
        readonly method: "delete";
        readonly path: "/v1/tenant";
        readonly path_params: readonly [];
        readonly query: readonly ["confirm"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getCompliance: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}/compliance";
        readonly path_params: readonly ["id"];
        readonly query: readonly ["format"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "binary";
    };
    readonly anonymizeDataset: {
        readonly method: "post";
        readonly path: "/v1/datasets/{id}/anonymize";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly listDesigns: {
        readonly method: "get";
        readonly path: "/v1/designs";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly createDesign: {
        readonly method: "post";
        readonly path: "/v1/designs";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getDesignSchema: {
        readonly method: "get";
        readonly path: "/v1/designs/schema";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getDesign: {
        readonly method: "get";
        readonly path: "/v1/designs/{name}";
        readonly path_params: readonly ["name"];
        readonly query: readonly ["version"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putDesign: {
        readonly method: "put";
        readonly path: "/v1/designs/{name}";
        readonly path_params: readonly ["name"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly listDesignVersions: {
        readonly method: "get";
        readonly path: "/v1/designs/{name}/versions";
        readonly path_params: readonly ["name"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAnalyticsUsage: {
        readonly method: "get";
        readonly path: "/v1/analytics/usage";
        readonly path_params: readonly [];
        readonly query: readonly ["from", "to", "granularity", "dataset", "scope"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAnalyticsQuality: {
        readonly method: "get";
        readonly path: "/v1/analytics/quality";
        readonly path_params: readonly [];
        readonly query: readonly ["from", "to", "granularity", "dataset", "scope"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAnalyticsPrivacy: {
        readonly method: "get";
        readonly path: "/v1/analytics/privacy";
        readonly path_params: readonly [];
        readonly query: readonly ["from", "to", "granularity", "dataset", "scope"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAnalyticsInsights: {
        readonly method: "get";
        readonly path: "/v1/analytics/insights";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getAnalyticsLive: {
        readonly method: "get";
        readonly path: "/v1/analytics/live";
        readonly path_params: readonly [];
        readonly query: readonly ["interval", "max"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "stream";
    };
    readonly getAnalyticsReport: {
        readonly method: "get";
        readonly path: "/v1/analytics/report";
        readonly path_params: readonly [];
        readonly query: readonly ["month", "scope"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "binary";
    };
    readonly listModels: {
        readonly method: "get";
        readonly path: "/v1/models";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly uploadModel: {
        readonly method: "post";
        readonly path: "/v1/models";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "multipart";
        readonly response: "json";
    };
    readonly getModel: {
        readonly method: "get";
        readonly path: "/v1/models/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly deleteModel: {
        readonly method: "delete";
        readonly path: "/v1/models/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "none";
    };
    readonly predictModel: {
        readonly method: "post";
        readonly path: "/v1/models/{id}:predict";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "binary";
    };
    readonly deployModel: {
        readonly method: "post";
        readonly path: "/v1/models/{id}:deploy";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly testModel: {
        readonly method: "post";
        readonly path: "/v1/models/{id}:test";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly listDestinations: {
        readonly method: "get";
        readonly path: "/v1/destinations";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly createDestination: {
        readonly method: "post";
        readonly path: "/v1/destinations";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getDestination: {
        readonly method: "get";
        readonly path: "/v1/destinations/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly deleteDestination: {
        readonly method: "delete";
        readonly path: "/v1/destinations/{id}";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "none";
    };
    readonly verifyDestination: {
        readonly method: "post";
        readonly path: "/v1/destinations/{id}/verify";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getStoragePolicy: {
        readonly method: "get";
        readonly path: "/v1/storage-policy";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putStoragePolicy: {
        readonly method: "put";
        readonly path: "/v1/storage-policy";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getDatasetStoragePolicy: {
        readonly method: "get";
        readonly path: "/v1/datasets/{id}/storage-policy";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putDatasetStoragePolicy: {
        readonly method: "put";
        readonly path: "/v1/datasets/{id}/storage-policy";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getIPRules: {
        readonly method: "get";
        readonly path: "/v1/security/ip-rules";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly putIPRules: {
        readonly method: "put";
        readonly path: "/v1/security/ip-rules";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly importDataset: {
        readonly method: "post";
        readonly path: "/v1/datasets/import";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "json";
        readonly response: "json";
    };
    readonly getAnonymizeKeys: {
        readonly method: "get";
        readonly path: "/v1/anonymize/keys";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly rotateAnonymizeKeys: {
        readonly method: "post";
        readonly path: "/v1/anonymize/keys/rotate";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
    readonly detokenize: {
        readonly method: "post";
        readonly path: "/v1/anonymize/detokenize";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly beginModelUpload: {
        readonly method: "post";
        readonly path: "/v1/models/uploads";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly putModelContent: {
        readonly method: "put";
        readonly path: "/v1/models/{id}/content";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly ["Content-Range"];
        readonly request: "binary";
        readonly response: "json";
    };
    readonly completeModelUpload: {
        readonly method: "post";
        readonly path: "/v1/models/{id}/complete";
        readonly path_params: readonly ["id"];
        readonly query: readonly [];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "json";
    };
    readonly getModelTest: {
        readonly method: "get";
        readonly path: "/v1/jobs/{id}/model-test";
        readonly path_params: readonly ["id"];
        readonly query: readonly ["format"];
        readonly headers: readonly [];
        readonly request: "none";
        readonly response: "binary";
    };
    readonly createBillingCheckout: {
        readonly method: "post";
        readonly path: "/v1/billing/checkout";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "json";
        readonly response: "json";
    };
    readonly createBillingPortal: {
        readonly method: "post";
        readonly path: "/v1/billing/portal";
        readonly path_params: readonly [];
        readonly query: readonly [];
        readonly headers: readonly ["Idempotency-Key"];
        readonly request: "none";
        readonly response: "json";
    };
};
/** OperationId is the id of an API operation. */
export type OperationId = keyof typeof operations;
