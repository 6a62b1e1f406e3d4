// The Synthos API client: `api` is openapi-fetch typed by the generated
// `paths` (every operation, checked at compile time); `call` reaches any
// operation by its operationId; the rest is the hand-written layer the
// generator cannot infer: uploads (multipart and the resumable protocol),
// job creation with an Idempotency-Key, polling with backoff, downloads,
// and errors as typed exceptions carrying the API's error code.
import createClient from "openapi-fetch";
import { operations } from "./operations.js";
import { apiError, JobFailedError, SynthosApiError, SynthosError, WaitTimeoutError } from "./errors.js";
export * from "./errors.js";
export { operations };
/** TERMINAL are the job states that do not change any more. */
export const TERMINAL = ["succeeded", "failed", "cancelled"];
/** RESUMABLE_GRANULARITY: every chunk but the last is a multiple of it (256 KiB, as Cloud Storage asks). */
export const RESUMABLE_GRANULARITY = 256 * 1024;
/** Synthos is a client of one Synthos API with one API key. */
export class Synthos {
    /** openapi-fetch, typed by the generated paths: every operation with its parameters and bodies */
    api;
    baseUrl;
    #apiKey;
    #fetch;
    #maxRetries;
    constructor(options) {
        if (!options?.baseUrl)
            throw new SynthosError("Synthos: baseUrl is required (e.g. http://127.0.0.1:8080, or set SYNTHOS_API)");
        if (!options.apiKey)
            throw new SynthosError("Synthos: apiKey is required (sk_live_…, or set SYNTHOS_API_KEY)");
        let url;
        try {
            url = new URL(options.baseUrl);
        }
        catch (err) {
            throw new SynthosError(`Synthos: baseUrl ${JSON.stringify(options.baseUrl)} is not a URL`, { cause: err });
        }
        this.baseUrl = url.href.replace(/\/+$/, "");
        this.#apiKey = options.apiKey;
        const f = options.fetch ?? globalThis.fetch;
        this.#fetch = (input, init) => f(input, init);
        const maxRetries = (this.#maxRetries = options.maxRetries ?? 2);
        this.api = createClient({
            baseUrl: this.baseUrl,
            headers: { Authorization: `Bearer ${options.apiKey}` },
            fetch: (req) => retrying(this.#fetch, req, maxRetries),
        });
    }
    /** fromEnv builds a client from SYNTHOS_API and SYNTHOS_API_KEY. */
    static fromEnv(env = globalThis.process?.env ?? {}) {
        return new Synthos({ baseUrl: env.SYNTHOS_API ?? "", apiKey: env.SYNTHOS_API_KEY ?? "" });
    }
    /**
     * call runs the operation operationId of the OpenAPI document through
     * openapi-fetch and answers its status, headers and body; an error status
     * throws the SynthosApiError of its class. `api` is the typed door to the
     * same operations; this one takes the id as data (a CLI, a test that
     * walks the document).
     */
    async call(operationId, init = {}) {
        const op = operations[operationId];
        if (!op)
            throw new SynthosError(`Synthos.call: unknown operation ${JSON.stringify(operationId)} (see operations)`);
        for (const name of op.path_params) {
            if (init.path?.[name] === undefined || init.path[name] === "") {
                throw new SynthosError(`${operationId}: path parameter ${name} is required (${op.method.toUpperCase()} ${op.path})`);
            }
        }
        const raw = op.request === "multipart" || op.request === "binary";
        const headers = { ...(init.headers ?? {}) };
        if (op.request === "binary" && init.body !== undefined)
            headers["Content-Type"] ??= "application/octet-stream";
        const parseAs = op.response === "json" || op.response === "none" ? "json" : op.response === "stream" ? "stream" : "arrayBuffer";
        // The id comes as data, so the path cannot be checked at compile time
        // here; `api` is where it is.
        const request = this.api.request;
        const { data, error, response } = await request(op.method, op.path, {
            params: { path: init.path, query: init.query },
            headers,
            body: init.body,
            parseAs,
            ...(raw ? { bodySerializer: (b) => b } : {}),
            signal: init.signal,
        });
        const label = `${operationId} (${op.method.toUpperCase()} ${op.path})`;
        // 308 is putDatasetContent's "stored, send more": a success with a body.
        if (response.status >= 400 || (response.status >= 300 && response.status !== 308))
            throw apiError(label, response, error);
        let body = response.ok ? data : error;
        if (body instanceof ArrayBuffer) {
            const bytes = new Uint8Array(body);
            body = isJSON(response) ? JSON.parse(new TextDecoder().decode(bytes)) : bytes;
        }
        return { status: response.status, headers: response.headers, data: body };
    }
    /** uploadDataset sends a table (up to 64 MiB) as multipart/form-data; name's extension gives the format. */
    async uploadDataset(data, name, options = {}) {
        const form = new FormData();
        form.append("file", toBlob(data), name);
        const { data: d, error, response } = await this.api.POST("/v1/datasets", {
            params: { header: idem(options.idempotencyKey) },
            body: form,
            bodySerializer: (b) => b,
        });
        return ok("uploadDataset (POST /v1/datasets)", d, error, response);
    }
    /**
     * uploadResumable sends a table of any size up to the server's limit
     * through an upload session: POST /v1/datasets/uploads, the bytes in
     * chunks to its upload_url (each retried, resuming from what the server
     * says it stored), then POST /v1/datasets/{id}/complete.
     */
    async uploadResumable(data, name, options = {}) {
        const blob = toBlob(data);
        const { data: up, error, response } = await this.api.POST("/v1/datasets/uploads", {
            params: { header: idem(options.idempotencyKey) },
            body: { name, size: blob.size },
        });
        const upload = ok("beginUpload (POST /v1/datasets/uploads)", up, error, response);
        return this.resumeUpload(upload, blob, options);
    }
    /**
     * resumeUpload finishes an upload session begun earlier (by this process
     * or another): it asks the upload URL how many bytes are stored and sends
     * the rest, then completes the dataset.
     */
    async resumeUpload(upload, data, options = {}) {
        const blob = toBlob(data);
        const total = blob.size;
        if (upload.protocol === "put") {
            await this.#put(upload, blob, undefined);
        }
        else {
            const chunk = options.chunkSize ?? upload.chunk_size ?? 32 * RESUMABLE_GRANULARITY;
            if (!Number.isInteger(chunk) || chunk <= 0 || chunk % RESUMABLE_GRANULARITY !== 0) {
                throw new SynthosError(`resumeUpload: chunkSize ${chunk} must be a positive multiple of ${RESUMABLE_GRANULARITY} (256 KiB)`);
            }
            const retries = options.retries ?? 5;
            // Where the session stands: 0 for a new one, more after a failure.
            let sent = await this.#withRetries(retries, () => this.#put(upload, undefined, `bytes */${total}`));
            options.onProgress?.(sent, total);
            while (sent < total) {
                const end = Math.min(sent + chunk, total);
                const range = `bytes ${sent}-${end - 1}/${total}`;
                const from = sent;
                sent = await this.#withRetries(retries, async (attempt) => {
                    if (attempt === 0)
                        return this.#put(upload, blob.slice(from, end), range);
                    // After a failure the server may have stored part of the chunk or
                    // all of it: ask, and send from there.
                    const stored = await this.#put(upload, undefined, `bytes */${total}`);
                    if (stored >= end)
                        return stored;
                    return this.#put(upload, blob.slice(stored, end), `bytes ${stored}-${end - 1}/${total}`);
                });
                options.onProgress?.(sent, total);
            }
        }
        const id = upload.dataset.id;
        const { data: d, error, response } = await this.api.POST("/v1/datasets/{id}/complete", {
            params: { path: { id }, header: idem(options.idempotencyKey && `${options.idempotencyKey}/complete`) },
        });
        return ok(`completeUpload (POST /v1/datasets/${id}/complete)`, d, error, response);
    }
    // #put sends one PUT to the upload URL and answers how many bytes the
    // session holds. The URL is the API's own (PUT /v1/datasets/{id}/content,
    // with the key) or a Cloud Storage session (no key; its own headers), so
    // this is a plain fetch, not an operation of the document.
    async #put(upload, body, contentRange) {
        const headers = { ...(upload.headers ?? {}) };
        if (isSameOrigin(upload.upload_url, this.baseUrl))
            headers.Authorization = `Bearer ${this.#apiKey}`;
        if (contentRange)
            headers["Content-Range"] = contentRange;
        if (body)
            headers["Content-Type"] ??= "application/octet-stream";
        // redirect "follow" (the default) hands back a 308 without Location as
        // it is, in browsers too ("manual" would make it opaque there).
        const response = await this.#fetch(upload.upload_url, { method: upload.method ?? "PUT", headers, body });
        const text = await response.text();
        if (response.status === 308) {
            // Range: bytes=0-LAST says what is stored; none means nothing is.
            const m = /bytes=0-(\d+)/.exec(response.headers.get("Range") ?? "");
            return m ? Number(m[1]) + 1 : 0;
        }
        if (!response.ok)
            throw apiError(`upload ${upload.dataset.id} (PUT ${contentRange ?? "whole"})`, response, parseMaybe(text));
        // 200/201: the session holds every byte.
        return body ? contentEnd(contentRange, body) : totalOf(contentRange);
    }
    async #withRetries(retries, f) {
        for (let attempt = 0;; attempt++) {
            try {
                return await f(attempt);
            }
            catch (err) {
                if (attempt >= retries || !transient(err))
                    throw err;
                const wait = err.retryAfter ? err.retryAfter * 1000 : Math.min(250 * 2 ** attempt, 8000);
                await sleep(wait);
            }
        }
    }
    /**
     * createJob queues a generation job. The Idempotency-Key makes a retry
     * safe: the same key and request answer the same job (the API replays the
     * first answer for 24 h); the same key with another request is
     * IdempotencyKeyReusedError. Without one, a random key is sent.
     */
    async createJob(request, options = {}) {
        const key = options.idempotencyKey ?? globalThis.crypto.randomUUID();
        const { data, error, response } = await this.api.POST("/v1/jobs", { params: { header: { "Idempotency-Key": key } }, body: request });
        return ok("createJob (POST /v1/jobs)", data, error, response);
    }
    /** getJob reads a job. */
    async getJob(id) {
        const { data, error, response } = await this.api.GET("/v1/jobs/{id}", { params: { path: { id } } });
        return ok(`getJob (GET /v1/jobs/${id})`, data, error, response);
    }
    /**
     * waitForJob polls a job until it is succeeded, failed or cancelled,
     * pausing initialDelayMs, then twice as long each time up to maxDelayMs.
     * 429 and 5xx answers and network errors are waited out (Retry-After
     * when the API sends one). A failed or cancelled job throws
     * JobFailedError with the job's error_code unless throwOnFailure is false.
     */
    async waitForJob(id, options = {}) {
        const { initialDelayMs = 500, maxDelayMs = 10_000, factor = 2, timeoutMs, throwOnFailure = true, onPoll, signal } = options;
        const pauseFor = options.sleep ?? sleep;
        const start = Date.now();
        let delay = initialDelayMs;
        let state = "unknown";
        for (;;) {
            signal?.throwIfAborted();
            let pause = delay;
            try {
                const job = await this.getJob(id);
                state = job.state;
                onPoll?.(job);
                if (TERMINAL.includes(job.state)) {
                    if (job.state !== "succeeded" && throwOnFailure)
                        throw new JobFailedError(job);
                    return job;
                }
            }
            catch (err) {
                if (!transient(err))
                    throw err;
                if (err instanceof SynthosApiError && err.retryAfter)
                    pause = Math.max(pause, err.retryAfter * 1000);
            }
            if (timeoutMs !== undefined && Date.now() - start + pause > timeoutMs)
                throw new WaitTimeoutError(id, state, timeoutMs);
            await pauseFor(pause, signal);
            delay = Math.min(delay * factor, maxDelayMs);
        }
    }
    /** getOutput answers the job's download URL (404 not_ready until it succeeded). */
    async getOutput(id) {
        const { data, error, response } = await this.api.GET("/v1/jobs/{id}/output", { params: { path: { id } } });
        return ok(`getOutput (GET /v1/jobs/${id}/output)`, data, error, response);
    }
    /**
     * downloadOutput fetches the job's synthetic table through the URL the
     * API hands out (a signed URL, or the API's own endpoint with the key).
     */
    async downloadOutput(id) {
        const dl = await this.getOutput(id);
        const headers = dl.authenticated ? { Authorization: `Bearer ${this.#apiKey}` } : {};
        const response = await retrying(this.#fetch, new Request(dl.url, { headers }), this.#maxRetries);
        if (!response.ok)
            throw apiError(`download output of ${id}`, response, parseMaybe(await response.text()));
        return new Uint8Array(await response.arrayBuffer());
    }
    /** getReport answers the job's quality and privacy report (JSON). */
    async getReport(id) {
        const { data, error, response } = await this.api.GET("/v1/jobs/{id}/report", { params: { path: { id } } });
        return ok(`getReport (GET /v1/jobs/${id}/report)`, data, error, response);
    }
}
// retrying sends req, and again after a network error, 429, 502, 503 or
// 504 when it is safe to repeat: a GET or HEAD, or a request with an
// Idempotency-Key (the API answers a repeat with the first answer). A
// Retry-After over a minute (a monthly quota) is not waited for: the
// caller gets the 429.
async function retrying(f, req, maxRetries) {
    const safe = req.method === "GET" || req.method === "HEAD" || req.headers.has("Idempotency-Key");
    for (let attempt = 0;; attempt++) {
        const last = !safe || attempt >= maxRetries;
        let wait = Math.min(250 * 2 ** attempt, 8000);
        try {
            const res = await f(last ? req : req.clone());
            if (last || ![429, 502, 503, 504].includes(res.status))
                return res;
            const ra = Number(res.headers.get("Retry-After"));
            if (ra > 60)
                return res;
            if (ra > 0)
                wait = ra * 1000;
            await res.body?.cancel();
        }
        catch (err) {
            if (last || !(err instanceof TypeError))
                throw err;
        }
        await sleep(wait, req.signal);
    }
}
// ok answers the data of a success or throws the typed error of a failure.
function ok(label, data, error, response) {
    if (!response.ok)
        throw apiError(label, response, error);
    return data;
}
function idem(key) {
    return key ? { "Idempotency-Key": key } : {};
}
function toBlob(data) {
    if (data instanceof Blob)
        return data;
    if (typeof data === "string")
        return new Blob([data]);
    if (data instanceof ArrayBuffer || data instanceof Uint8Array)
        return new Blob([data]);
    throw new SynthosError("upload: the table must be a Blob, a Uint8Array, an ArrayBuffer or a string");
}
function isJSON(response) {
    const ct = response.headers.get("Content-Type") ?? "";
    return /^application\/([\w.+-]*\+)?json\b/i.test(ct);
}
function parseMaybe(text) {
    try {
        return JSON.parse(text);
    }
    catch {
        return text;
    }
}
function isSameOrigin(url, base) {
    try {
        return new URL(url).origin === new URL(base).origin;
    }
    catch {
        return false;
    }
}
// contentEnd is the byte count a successful chunk completes: END+1 of
// "bytes START-END/TOTAL", or the body's size for a whole-file PUT.
function contentEnd(range, body) {
    const m = /bytes \d+-(\d+)\//.exec(range ?? "");
    return m ? Number(m[1]) + 1 : body.size;
}
function totalOf(range) {
    const m = /\/(\d+)$/.exec(range ?? "");
    return m ? Number(m[1]) : 0;
}
// transient reports whether an error is worth retrying: a network error
// (fetch's TypeError), 429 or 5xx.
function transient(err) {
    if (err instanceof SynthosApiError)
        return err.status === 429 || err.status >= 500;
    return err instanceof TypeError;
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
            signal?.removeEventListener("abort", abort);
            resolve();
        }, ms);
        const abort = () => {
            clearTimeout(t);
            reject(signal?.reason);
        };
        signal?.addEventListener("abort", abort, { once: true });
    });
}
