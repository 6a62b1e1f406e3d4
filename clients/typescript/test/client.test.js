// The hand-written layer against a fake fetch: the resumable protocol
// (chunks, a failed chunk resumed from what the server stored), polling
// with backoff, and the mapping of answers to typed errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConflictError,
  JobFailedError,
  NotFoundError,
  QuotaExceededError,
  ServerError,
  Synthos,
  SynthosApiError,
  SynthosError,
} from "../dist/index.js";

const base = "http://synthos.test";
const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

// fakeSessions is a resumable upload endpoint: it stores what each PUT
// sends, answers 308 with Range while bytes are missing, and fails the
// PUTs listed in failAt (by index) with 503, a chunk after storing half of it.
function fakeSessions(total, failAt = new Set()) {
  const stored = [];
  const log = [];
  let n = 0;
  const dataset = { id: "ds_a", name: "t.csv", format: "csv", size: total, status: "pending", created_at: "2026-01-01T00:00:00Z" };
  const upload = { dataset, upload_url: `${base}/v1/datasets/ds_a/content`, method: "PUT", protocol: "resumable", max_bytes: 1 << 30, expires_at: "2026-01-08T00:00:00Z" };
  const range = () => (stored.length ? { Range: `bytes=0-${stored.length - 1}` } : {});
  const fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/v1/datasets/uploads") return json(201, upload);
    if (req.method === "POST" && url.pathname === "/v1/datasets/ds_a/complete") return json(200, { ...dataset, status: "ready" });
    assert.equal(req.method, "PUT");
    assert.equal(req.headers.get("Authorization"), "Bearer k", "the API's own upload URL gets the key");
    const cr = req.headers.get("Content-Range");
    log.push(cr);
    const failing = failAt.has(n++);
    const body = new Uint8Array(await req.arrayBuffer());
    const store = (b) => b.forEach((x) => stored.push(x));
    if (/^bytes \*\//.test(cr)) {
      if (failing) return json(503, { error: { code: "unavailable", message: "try again" } }, { "Retry-After": "0" });
      return stored.length === total ? json(200, dataset) : json(308, dataset, range());
    }
    const [, start] = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr).map(Number);
    if (start > stored.length) return json(409, { error: { code: "upload_offset_mismatch", message: "gap", details: { received: stored.length } } });
    const fresh = body.subarray(stored.length - start);
    if (failing) {
      store(fresh.subarray(0, fresh.length >> 1));
      return json(503, { error: { code: "unavailable", message: "try again" } }, { "Retry-After": "0" });
    }
    store(fresh);
    return stored.length === total ? json(200, dataset) : json(308, dataset, range());
  };
  return { fetch, stored, log };
}

test("uploadResumable sends chunks and resumes a failed one from what the server stored", async () => {
  const total = 3 * 262144 + 100;
  const bytes = Uint8Array.from({ length: total }, (_, i) => i % 251);
  // Request 0 asks where the session stands; 2 is the second chunk.
  const fake = fakeSessions(total, new Set([2]));
  const s = new Synthos({ baseUrl: base, apiKey: "k", fetch: fake.fetch });
  const progress = [];
  const ds = await s.uploadResumable(bytes, "t.csv", { chunkSize: 262144, onProgress: (n) => progress.push(n) });
  assert.equal(ds.status, "ready");
  assert.deepEqual(Uint8Array.from(fake.stored), bytes, "the stored bytes differ from the table");
  assert.deepEqual(fake.log, [
    `bytes */${total}`,
    `bytes 0-262143/${total}`,
    `bytes 262144-524287/${total}`, // fails after storing half
    `bytes */${total}`,
    `bytes 393216-524287/${total}`, // the rest of that chunk
    `bytes 524288-786431/${total}`,
    `bytes 786432-${total - 1}/${total}`,
  ]);
  assert.deepEqual(progress, [0, 262144, 524288, 786432, total]);
});

test("uploadResumable refuses a chunk size that is not a multiple of 256 KiB", async () => {
  const s = new Synthos({ baseUrl: base, apiKey: "k", fetch: fakeSessions(10).fetch });
  await assert.rejects(s.uploadResumable(new Uint8Array(10), "t.csv", { chunkSize: 1000 }), /multiple of 262144/);
});

test("an upload that keeps failing ends with the server's typed error", async () => {
  const total = 10;
  const fake = fakeSessions(total, new Set([1, 2, 3, 4]));
  const s = new Synthos({ baseUrl: base, apiKey: "k", fetch: fake.fetch });
  await assert.rejects(s.uploadResumable(new Uint8Array(total), "t.csv", { chunkSize: 262144, retries: 1 }), (err) => {
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.code, "unavailable");
    return true;
  });
});

test("waitForJob backs off exponentially, waits out 429 and stops at a terminal state", async () => {
  const answers = [
    json(200, { id: "job_a", state: "queued" }),
    json(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "3" }),
    json(200, { id: "job_a", state: "fitting" }),
    json(200, { id: "job_a", state: "sampling" }),
    json(200, { id: "job_a", state: "sampling" }),
    json(200, { id: "job_a", state: "succeeded" }),
  ];
  // maxRetries 0: the client's own retry of a GET would take the 429.
  const s = new Synthos({ baseUrl: base, apiKey: "k", fetch: async () => answers.shift(), maxRetries: 0 });
  const pauses = [];
  const job = await s.waitForJob("job_a", { initialDelayMs: 100, maxDelayMs: 500, sleep: async (ms) => void pauses.push(ms) });
  assert.equal(job.state, "succeeded");
  // 100, then 200 raised to the 429's Retry-After (3 s), 400, then capped at 500.
  assert.deepEqual(pauses, [100, 3000, 400, 500, 500]);
  assert.equal(answers.length, 0);
});

test("waitForJob throws JobFailedError with the job's error code", async () => {
  const s = new Synthos({
    baseUrl: base,
    apiKey: "k",
    fetch: async () => json(200, { id: "job_b", state: "failed", error: "the release gate failed", error_code: "failed_precondition" }),
  });
  await assert.rejects(s.waitForJob("job_b", { sleep: async () => {} }), (err) => {
    assert.ok(err instanceof JobFailedError);
    assert.equal(err.code, "failed_precondition");
    assert.equal(err.jobId, "job_b");
    return true;
  });
  const job = await s.waitForJob("job_b", { throwOnFailure: false, sleep: async () => {} });
  assert.equal(job.state, "failed");
});

test("answers map to typed errors carrying the API's code", async () => {
  const cases = [
    { res: json(404, { error: { code: "not_ready", message: "not yet" } }), cls: NotFoundError, code: "not_ready" },
    { res: json(409, { error: { code: "privacy_budget_exhausted", message: "no", details: { remaining_epsilon: 0.5 } } }), cls: ConflictError, code: "privacy_budget_exhausted" },
    { res: json(429, { error: { code: "quota_exceeded", message: "rows" } }, { "Retry-After": "60" }), cls: QuotaExceededError, code: "quota_exceeded", retryAfter: 60 },
    // A proxy's page, not the envelope: the status still decides the class.
    { res: new Response("<html>bad gateway</html>", { status: 502, headers: { "Content-Type": "text/html" } }), cls: ServerError, code: "http_502" },
    { res: json(418, { error: { code: "teapot", message: "?" } }), cls: SynthosApiError, code: "teapot" },
  ];
  for (const c of cases) {
    const s = new Synthos({ baseUrl: base, apiKey: "k", fetch: async () => c.res, maxRetries: 0 });
    await assert.rejects(s.getJob("job_c"), (err) => {
      assert.equal(err.constructor, c.cls, `${c.code}: ${err}`);
      assert.equal(err.code, c.code);
      assert.equal(err.operation, "getJob (GET /v1/jobs/job_c)");
      if (c.retryAfter) assert.equal(err.retryAfter, c.retryAfter);
      return true;
    });
  }
});

test("GETs and requests with an Idempotency-Key are retried after 503 and network errors; others are not", async () => {
  const cases = [
    { name: "GET after 503", run: (s) => s.getJob("job_a"), answers: ["503", "ok"], want: 2 },
    { name: "GET after a network error", run: (s) => s.getJob("job_a"), answers: ["net", "ok"], want: 2 },
    { name: "POST with a key", run: (s) => s.createJob({ dataset: "ds_a", rows: 1 }, { idempotencyKey: "k1" }), answers: ["503", "ok"], want: 2 },
    { name: "a monthly quota is not waited for", run: (s) => s.getJob("job_a"), answers: ["429-long"], want: 1, cls: QuotaExceededError },
    { name: "gives up after maxRetries", run: (s) => s.getJob("job_a"), answers: ["503", "503", "503"], want: 3, cls: ServerError },
    { name: "POST without a key", run: (s) => s.call("createKey", { body: { name: "x" } }), answers: ["503"], want: 1, cls: ServerError },
  ];
  for (const c of cases) {
    const bodies = [];
    const answers = [...c.answers];
    const s = new Synthos({
      baseUrl: base,
      apiKey: "k",
      fetch: async (input, init) => {
        const req = new Request(input, init);
        bodies.push(await req.text());
        const a = answers.shift();
        if (a === "net") throw new TypeError("fetch failed");
        if (a === "503") return json(503, { error: { code: "unavailable", message: "later" } }, { "Retry-After": "0" });
        if (a === "429-long") return json(429, { error: { code: "quota_exceeded", message: "monthly rows" } }, { "Retry-After": "86400" });
        return json(202, { id: "job_a", state: "queued" });
      },
    });
    if (c.cls) await assert.rejects(c.run(s), c.cls, c.name);
    else assert.equal((await c.run(s)).id, "job_a", c.name);
    assert.equal(bodies.length, c.want, `${c.name}: ${bodies.length} requests`);
    assert.equal(new Set(bodies).size <= 1, true, `${c.name}: a retry sent another body`);
  }
});

test("the constructor refuses a missing or malformed base URL or key", () => {
  assert.throws(() => new Synthos({ baseUrl: "", apiKey: "k" }), SynthosError);
  assert.throws(() => new Synthos({ baseUrl: "not a url", apiKey: "k" }), /is not a URL/);
  assert.throws(() => Synthos.fromEnv({ SYNTHOS_API: base }), /apiKey is required/);
});
