import { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { operations, type Operation, type OperationId } from "./operations.js";
export * from "./errors.js";
export { operations };
export type { components, paths, Operation, OperationId };
type Schemas = components["schemas"];
export type Dataset = Schemas["Dataset"];
export type Upload = Schemas["Upload"];
export type Job = Schemas["Job"];
export type JobCreate = Schemas["JobCreate"];
export type Download = Schemas["Download"];
/** TERMINAL are the job states that do not change any more. */
export declare const TERMINAL: readonly Job["state"][];
/** RESUMABLE_GRANULARITY: every chunk but the last is a multiple of it (256 KiB, as Cloud Storage asks). */
export declare const RESUMABLE_GRANULARITY: number;
export interface ClientOptions {
    /** the API's base URL, e.g. http://127.0.0.1:8080 (SYNTHOS_API) */
    baseUrl: string;
    /** an API key, sk_live_… or sk_test_… (SYNTHOS_API_KEY) */
    apiKey: string;
    /** a fetch implementation (default: the global fetch) */
    fetch?: typeof globalThis.fetch;
    /**
     * how often a request that is safe to repeat (GET, HEAD, or one with an
     * Idempotency-Key) is retried after a network error, 429, 502, 503 or
     * 504, waiting Retry-After (up to a minute) or an exponential backoff
     * (default 2; 0 turns retries off)
     */
    maxRetries?: number;
}
/** Bytes a client uploads: a Blob (e.g. from fs.openAsBlob or a file input) or bytes in memory. */
export type TableData = Blob | Uint8Array | ArrayBuffer | string;
export interface UploadOptions {
    /** sent as Idempotency-Key, so a retried upload creates one dataset */
    idempotencyKey?: string;
}
export interface ResumableOptions extends UploadOptions {
    /** bytes per PUT, a multiple of 256 KiB (default: the chunk_size the API suggests) */
    chunkSize?: number;
    /** how often one chunk is retried after a network error, 429 or 5xx before giving up (default 5) */
    retries?: number;
    /** called after every stored chunk with the bytes stored and the total */
    onProgress?: (sent: number, total: number) => void;
}
export interface WaitOptions {
    /** the first pause between polls (default 500 ms); it doubles up to maxDelayMs */
    initialDelayMs?: number;
    /** the longest pause between polls (default 10 s) */
    maxDelayMs?: number;
    /** how much each pause grows (default 2) */
    factor?: number;
    /** give up with WaitTimeoutError after this long (default: wait as long as the job runs) */
    timeoutMs?: number;
    /** throw JobFailedError when the job ends failed or cancelled (default true) */
    throwOnFailure?: boolean;
    /** called with every job read */
    onPoll?: (job: Job) => void;
    signal?: AbortSignal;
    /** how a pause is taken (default: a timer); tests pass one that records the pauses */
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}
export interface CallInit {
    /** path parameters by name, e.g. {id: "job_…"} */
    path?: Record<string, string | number>;
    /** query parameters by name */
    query?: Record<string, string | number | boolean | undefined>;
    /** header parameters by name, e.g. {"Idempotency-Key": "…"} */
    headers?: Record<string, string>;
    /** a JSON value, a FormData (multipart operations) or bytes (binary operations) */
    body?: unknown;
    signal?: AbortSignal;
}
/** Result is what `call` answers: the status, the headers and the decoded body. */
export interface Result<T = unknown> {
    status: number;
    headers: Headers;
    /** JSON bodies parsed; binary bodies as Uint8Array; event streams as a ReadableStream; undefined without a body */
    data: T;
}
/** Synthos is a client of one Synthos API with one API key. */
export declare class Synthos {
    #private;
    /** openapi-fetch, typed by the generated paths: every operation with its parameters and bodies */
    readonly api: Client<paths>;
    readonly baseUrl: string;
    constructor(options: ClientOptions);
    /** fromEnv builds a client from SYNTHOS_API and SYNTHOS_API_KEY. */
    static fromEnv(env?: Record<string, string | undefined>): Synthos;
    /**
     * call runs the operation operationId of the OpenAPI document through
     * openapi-fetch and answers its status, headers and body; an error status
     * throws the SynthosApiError of its class. `api` is the typed door to the
     * same operations; this one takes the id as data (a CLI, a test that
     * walks the document).
     */
    call<T = unknown>(operationId: OperationId, init?: CallInit): Promise<Result<T>>;
    /** uploadDataset sends a table (up to 64 MiB) as multipart/form-data; name's extension gives the format. */
    uploadDataset(data: TableData, name: string, options?: UploadOptions): Promise<Dataset>;
    /**
     * uploadResumable sends a table of any size up to the server's limit
     * through an upload session: POST /v1/datasets/uploads, the bytes in
     * chunks to its upload_url (each retried, resuming from what the server
     * says it stored), then POST /v1/datasets/{id}/complete.
     */
    uploadResumable(data: TableData, name: string, options?: ResumableOptions): Promise<Dataset>;
    /**
     * resumeUpload finishes an upload session begun earlier (by this process
     * or another): it asks the upload URL how many bytes are stored and sends
     * the rest, then completes the dataset.
     */
    resumeUpload(upload: Upload, data: TableData, options?: ResumableOptions): Promise<Dataset>;
    /**
     * createJob queues a generation job. The Idempotency-Key makes a retry
     * safe: the same key and request answer the same job (the API replays the
     * first answer for 24 h); the same key with another request is
     * IdempotencyKeyReusedError. Without one, a random key is sent.
     */
    createJob(request: JobCreate, options?: {
        idempotencyKey?: string;
    }): Promise<Job>;
    /** getJob reads a job. */
    getJob(id: string): Promise<Job>;
    /**
     * waitForJob polls a job until it is succeeded, failed or cancelled,
     * pausing initialDelayMs, then twice as long each time up to maxDelayMs.
     * 429 and 5xx answers and network errors are waited out (Retry-After
     * when the API sends one). A failed or cancelled job throws
     * JobFailedError with the job's error_code unless throwOnFailure is false.
     */
    waitForJob(id: string, options?: WaitOptions): Promise<Job>;
    /** getOutput answers the job's download URL (404 not_ready until it succeeded). */
    getOutput(id: string): Promise<Download>;
    /**
     * downloadOutput fetches the job's synthetic table through the URL the
     * API hands out (a signed URL, or the API's own endpoint with the key).
     */
    downloadOutput(id: string): Promise<Uint8Array>;
    /** getReport answers the job's quality and privacy report (JSON). */
    getReport(id: string): Promise<Record<string, unknown>>;
}
