// Round trips against a running Synthos platform (SYNTHOS_API,
// SYNTHOS_API_KEY; clients/clients_test.go starts one and runs this suite):
// the README example as written, uploads plain and resumable (in chunks,
// and resumed after a partial chunk), a job created with an
// Idempotency-Key and replayed, polled to success and downloaded, and the
// API's errors as typed exceptions with their codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  IdempotencyKeyReusedError,
  NotFoundError,
  RESUMABLE_GRANULARITY,
  Synthos,
  SynthosApiError,
} from "../dist/index.js";
import { pkgDir, platform, repoDir } from "../testing/helpers.mjs";

const env = platform();
const opts = { skip: env.skip };
const insurance = readFileSync(join(repoDir, "examples", "insurance.csv"));
const insuranceRows = insurance.toString("utf8").trimEnd().split("\n").length - 1;

function client() {
  return new Synthos({ baseUrl: env.api, apiKey: env.key });
}

// bigTable repeats the example's rows until the table spans several
// resumable chunks.
function bigTable(copies) {
  const [header, ...rows] = insurance.toString("utf8").trimEnd().split("\n");
  const body = Array.from({ length: copies }, () => rows.join("\n")).join("\n");
  return { bytes: new TextEncoder().encode(`${header}\n${body}\n`), rows: rows.length * copies };
}

test("the README example runs as written", opts, () => {
  const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
  const marker = "<!-- example: test/platform.test.js runs the next js block -->";
  const after = readme.split(marker)[1];
  assert.ok(after, `README.md lacks the marker ${marker}`);
  const block = /```js\n([\s\S]*?)```/.exec(after)?.[1];
  assert.ok(block, "README.md has no ```js block after the marker");
  // Inside the package, so that the example's import of @synthos/client
  // resolves to this package (self-reference through "exports").
  const dir = mkdtempSync(join(pkgDir, ".example-"));
  try {
    writeFileSync(join(dir, "example.mjs"), block);
    const out = execFileSync(process.execPath, [join(dir, "example.mjs")], {
      cwd: join(repoDir, "examples"),
      env: { ...process.env, SYNTHOS_API: env.api, SYNTHOS_API_KEY: env.key },
      encoding: "utf8",
    });
    assert.match(out, new RegExp(`^dataset ds_[a-z2-7]+: ${insuranceRows} rows, 7 columns$`, "m"));
    assert.match(out, /^job job_[a-z2-7]+ is succeeded$/m);
    assert.match(out, /^synthetic\.csv: 1000 rows: age,sex,bmi,children,smoker,region,charges$/m);
    assert.match(out, /^bad request: invalid_request \(field rows\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("upload, job with Idempotency-Key and its replay, poll to success, download", opts, async () => {
  const s = client();
  const ds = await s.uploadDataset(new Blob([insurance]), "insurance.csv", { idempotencyKey: `ts-upload-${Date.now()}` });
  assert.equal(ds.status, "ready");
  assert.equal(ds.rows, insuranceRows);

  const key = `ts-job-${ds.id}`;
  const request = { dataset: ds.id, rows: 500, model: "tree", seed: 7 };
  const job = await s.createJob(request, { idempotencyKey: key });
  const again = await s.createJob(request, { idempotencyKey: key });
  assert.equal(again.id, job.id, "the replay answered another job");
  // The replay is marked as one (call shows the headers).
  const replay = await s.call("createJob", { headers: { "Idempotency-Key": key }, body: request });
  assert.equal(replay.status, 202);
  assert.equal(replay.headers.get("Idempotent-Replayed"), "true");
  assert.equal(replay.data.id, job.id);
  // The same key with another request is refused with its own class.
  await assert.rejects(s.createJob({ ...request, rows: 501 }, { idempotencyKey: key }), (err) => {
    assert.ok(err instanceof IdempotencyKeyReusedError, String(err));
    assert.equal(err.status, 422);
    return true;
  });

  const states = [];
  const done = await s.waitForJob(job.id, { initialDelayMs: 100, maxDelayMs: 1000, onPoll: (j) => states.push(j.state) });
  assert.equal(done.state, "succeeded");
  assert.equal(states.at(-1), "succeeded");

  const csv = new TextDecoder().decode(await s.downloadOutput(job.id));
  const lines = csv.trimEnd().split("\n");
  assert.equal(lines[0], "age,sex,bmi,children,smoker,region,charges");
  assert.equal(lines.length - 1, 500);
  const report = await s.getReport(job.id);
  assert.equal(typeof report, "object");
});

test("a resumable upload in chunks, and one resumed after a partial chunk", opts, async () => {
  const s = client();
  const { bytes, rows } = bigTable(12); // ~650 KB: three 256 KiB chunks
  assert.ok(bytes.length > 2 * RESUMABLE_GRANULARITY, `the table is only ${bytes.length} bytes`);
  const progress = [];
  const ds = await s.uploadResumable(bytes, "big.csv", { chunkSize: RESUMABLE_GRANULARITY, onProgress: (n) => progress.push(n) });
  assert.equal(ds.status, "ready");
  assert.equal(ds.rows, rows);
  assert.deepEqual(progress, [0, RESUMABLE_GRANULARITY, 2 * RESUMABLE_GRANULARITY, bytes.length]);

  // A session whose first chunk was sent by someone else (another
  // process that died): resumeUpload asks how far it is and sends the rest.
  const { data: up } = await s.api.POST("/v1/datasets/uploads", { body: { name: "resumed.csv", size: bytes.length } });
  const first = await s.call("putDatasetContent", {
    path: { id: up.dataset.id },
    headers: { "Content-Range": `bytes 0-${RESUMABLE_GRANULARITY - 1}/${bytes.length}` },
    body: bytes.slice(0, RESUMABLE_GRANULARITY),
  });
  assert.equal(first.status, 308);
  assert.equal(first.headers.get("Range"), `bytes=0-${RESUMABLE_GRANULARITY - 1}`);
  const resumed = [];
  const ds2 = await s.resumeUpload(up, bytes, { chunkSize: RESUMABLE_GRANULARITY, onProgress: (n) => resumed.push(n) });
  assert.equal(ds2.status, "ready");
  assert.equal(ds2.rows, rows);
  assert.equal(resumed[0], RESUMABLE_GRANULARITY, "resumeUpload did not start from what the server had");
});

test("API errors are typed exceptions with the API's code", opts, async () => {
  const s = client();
  const cases = [
    {
      name: "bad request",
      run: () => s.createJob({ dataset: "ds_none", rows: 0 }),
      cls: BadRequestError,
      status: 400,
      code: "invalid_request",
      details: { field: "rows" },
    },
    { name: "unknown job", run: () => s.getJob("job_doesnotexist"), cls: NotFoundError, status: 404, code: "not_found" },
    {
      name: "wrong key",
      run: () => new Synthos({ baseUrl: env.api, apiKey: "sk_live_" + "0".repeat(38) }).getJob("job_x"),
      cls: AuthenticationError,
      status: 401,
    },
    {
      name: "chunk beyond the stored bytes",
      run: async () => {
        const { data: up } = await s.api.POST("/v1/datasets/uploads", { body: { name: "gap.csv" } });
        return s.call("putDatasetContent", {
          path: { id: up.dataset.id },
          headers: { "Content-Range": `bytes ${RESUMABLE_GRANULARITY}-${2 * RESUMABLE_GRANULARITY - 1}/*` },
          body: new Uint8Array(RESUMABLE_GRANULARITY),
        });
      },
      cls: ConflictError,
      status: 409,
      code: "upload_offset_mismatch",
    },
  ];
  for (const c of cases) {
    await assert.rejects(c.run(), (err) => {
      assert.ok(err instanceof c.cls, `${c.name}: ${err}`);
      assert.ok(err instanceof SynthosApiError);
      assert.equal(err.status, c.status, c.name);
      if (c.code) assert.equal(err.code, c.code, c.name);
      else assert.ok(err.code, `${c.name}: no code`);
      for (const [k, v] of Object.entries(c.details ?? {})) assert.equal(err.details[k], v, `${c.name}: details.${k}`);
      return true;
    });
  }
});
