// The console's less visited pages (custom models, saved designs, storage
// destinations, the audit log), loaded with import() the first time one is
// opened so the first load stays small. Each page gets the shell's helpers
// in ui and builds its elements with ui.h (no innerHTML with API data).

import { call, get, upload } from "./api.js";

const enc = encodeURIComponent;

// ---- custom models ----------------------------------------------------------

const MODEL_DONE = new Set(["ready", "rejected"]);

export async function modelsView(ui) {
  const { h, guard, status, table, num, date, view } = ui;
  const file = h("input", { id: "model-file", type: "file", required: true, "aria-describedby": "model-file-help" });
  const dataset = h("select", { id: "model-dataset" }, h("option", { value: "" }, "(none)"));
  const target = h("input", { id: "model-target", placeholder: "e.g. charges", list: "model-columns" });
  const cols = h("datalist", { id: "model-columns" });
  const progress = h("progress", { id: "model-progress", max: 100, value: 0, "aria-label": "Model upload progress", hidden: true });
  const form = h("form", { class: "card", id: "model-form" },
    h("h2", {}, "Upload a model"),
    h("label", { for: "model-file" }, "Model file"), file,
    h("p", { id: "model-file-help", class: "help" }, "XGBoost JSON/UBJSON, LightGBM text, scikit-learn pickle or joblib, PyTorch, TorchScript, TensorFlow SavedModel (zip or tar), ONNX. Every file is checked before it is ready; pickles are scanned, never loaded."),
    h("div", { class: "grid" },
      h("div", {}, h("label", { for: "model-dataset" }, "Dataset it was trained on (optional)"), dataset),
      h("div", {}, h("label", { for: "model-target" }, "Column it predicts (optional)"), target, cols)),
    progress, h("button", { type: "submit" }, "Upload model"));
  const list = h("div", { id: "models-list" }, "Loading…");
  view.replaceChildren(h("h1", {}, "Custom models"), form, h("h2", {}, "Your models"), list);
  let byId = new Map();
  dataset.addEventListener("change", () => {
    const d = byId.get(dataset.value);
    cols.replaceChildren(...(d ? d.columns || [] : []).map((c) => h("option", { value: c.name })));
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) return;
    guard(async () => {
      progress.hidden = false;
      const fields = {};
      if (dataset.value) fields.dataset = dataset.value;
      if (target.value.trim()) fields.target = target.value.trim();
      const m = await upload("/v1/models", f, (loaded, total) => { progress.value = Math.floor((loaded / total) * 100); }, fields);
      status(`Uploaded ${f.name}: model ${m.id} is ${m.status}.`);
      location.hash = "#/models/" + enc(m.id);
    });
  });
  await guard(async () => {
    const [{ models }, { datasets }] = await Promise.all([get("/v1/models"), get("/v1/datasets")]);
    byId = new Map(datasets.filter((d) => d.status === "ready").map((d) => [d.id, d]));
    dataset.append(...[...byId.values()].map((d) => h("option", { value: d.id }, `${d.name} (${d.id})`)));
    list.replaceChildren(table(["Name", "Status", "Framework", "Task", { label: "Size", num: true }, "Uploaded"],
      models.map((m) => h("tr", {},
        h("td", {}, h("a", { href: "#/models/" + enc(m.id) }, m.name || m.id)),
        h("td", {}, h("span", { class: "state state-" + m.status }, m.status)), h("td", {}, m.framework || "—"),
        h("td", {}, m.task || "—"), h("td", { class: "num" }, num(m.size)), h("td", {}, date(m.created_at))))));
  });
}

export async function modelView(ui, id) {
  const { h, guard, status, table, num, date, view, poll } = ui;
  const box = h("div", { id: "model" }, "Loading…");
  view.replaceChildren(h("h1", {}, "Model ", h("span", { class: "mono" }, id)), box);
  poll(async () => {
    const m = await get("/v1/models/" + enc(id));
    const findings = m.findings || [];
    box.replaceChildren(
      h("dl", { class: "facts card" },
        h("dt", {}, "Name"), h("dd", {}, m.name || "—"),
        h("dt", {}, "Status"), h("dd", { id: "model-status", "data-status": m.status }, h("span", { class: "state state-" + m.status }, m.status)),
        m.reason ? [h("dt", {}, "Reason"), h("dd", { class: "bad" }, m.reason)] : null,
        h("dt", {}, "Framework"), h("dd", {}, m.framework || "—"),
        h("dt", {}, "Format"), h("dd", {}, m.format || "—"),
        h("dt", {}, "Task"), h("dd", {}, m.task || "—"),
        h("dt", {}, "Inputs"), h("dd", {}, (m.inputs || []).map((x) => (typeof x === "string" ? x : x.name)).join(", ") || "—"),
        m.dataset ? [h("dt", {}, "Dataset"), h("dd", {}, h("a", { class: "mono", href: "#/datasets/" + enc(m.dataset) }, m.dataset))] : null,
        m.target ? [h("dt", {}, "Target"), h("dd", {}, m.target)] : null,
        h("dt", {}, "Size"), h("dd", {}, num(m.size) + " bytes"),
        h("dt", {}, "Uploaded"), h("dd", {}, date(m.created_at))),
      h("h2", {}, "Validation findings"),
      table(["File", { label: "Offset", num: true }, "Opcode", "Global", "Reason"],
        findings.map((x) => h("tr", {}, h("td", { class: "mono" }, x.file || ""), h("td", { class: "num" }, num(x.offset)),
          h("td", { class: "mono" }, x.op || ""), h("td", { class: "mono" }, x.global || ""), h("td", {}, x.reason))),
        findings.length ? "What the validator refused or flagged." : "The validator found nothing to report."),
      h("button", { type: "button", id: "delete-model", class: "danger", onclick: () => {
        if (!confirm(`Delete model ${m.name || m.id}?`)) return;
        guard(async () => {
          await call("DELETE", "/v1/models/" + enc(m.id));
          status(`Model ${m.id} deleted.`);
          location.hash = "#/models";
        });
      } }, "Delete model"));
    return MODEL_DONE.has(m.status) ? true : "changed";
  });
}

// ---- saved designs ------------------------------------------------------------

export async function designsView(ui) {
  const { h, guard, status, table, date, view } = ui;
  const name = h("input", { id: "design-name", required: true, maxlength: 100, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]*", "aria-describedby": "design-name-help" });
  const desc = h("textarea", { id: "design-description", required: true, maxlength: 4000, placeholder: "Customers and their orders for a small online shop" });
  const form = h("form", { class: "card", id: "design-form" },
    h("h2", {}, "Design tables from a description"),
    h("label", { for: "design-name" }, "Name"), name,
    h("p", { id: "design-name-help", class: "help" }, "Letters, digits, -, _ and ., starting with a letter or digit (at most 100)."),
    h("label", { for: "design-description" }, "Description"), desc,
    h("button", { type: "submit" }, "Design"));
  const list = h("div", { id: "designs-list" }, "Loading…");
  view.replaceChildren(h("h1", {}, "Saved designs"), form, h("h2", {}, "Designs"), list);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      status("Designing…");
      const d = await call("POST", "/v1/designs", { name: name.value.trim(), description: desc.value });
      status(`Design ${d.name} v${d.version} saved.`);
      location.hash = "#/designs/" + enc(d.name);
    });
  });
  await guard(async () => {
    const { designs } = await get("/v1/designs");
    list.replaceChildren(table(["Name", "Latest version", "Updated"],
      designs.map((d) => h("tr", {}, h("td", {}, h("a", { href: "#/designs/" + enc(d.name) }, d.name)),
        h("td", { class: "num" }, d.latest), h("td", {}, date(d.updated_at))))));
  });
}

export async function designView(ui, name) {
  const { h, guard, status, date, view } = ui;
  view.replaceChildren(h("h1", {}, "Design ", h("span", { class: "mono" }, name)), h("p", {}, "Loading…"));
  const d = await guard(() => get("/v1/designs/" + enc(name)));
  if (!d) return;
  const tables = (d.spec && d.spec.tables) || [];
  const rows = h("input", { id: "design-rows", type: "number", min: "1", step: "1", value: "1000", required: true, "aria-describedby": "design-rows-help" });
  const form = h("form", { class: "card", id: "design-job-form" },
    h("h2", {}, "Create a job from this design"),
    h("label", { for: "design-rows" }, "Rows of the main table"), rows,
    h("p", { id: "design-rows-help", class: "help" }, "Related tables get the rows the spec says per parent row; the job reserves the rows of every table."),
    h("button", { type: "submit" }, "Create job"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      const j = await call("POST", "/v1/jobs", { design_id: d.name, design_version: d.version, rows: Number(rows.value) });
      status(`Job ${j.id} created (${j.state}).`);
      location.hash = "#/jobs/" + enc(j.id);
    });
  });
  view.replaceChildren(
    h("h1", {}, "Design ", h("span", { class: "mono" }, d.name)),
    h("dl", { class: "facts card", id: "design-facts" },
      h("dt", {}, "Version"), h("dd", {}, d.version),
      h("dt", {}, "Designed by"), h("dd", {}, [d.provider, d.model].filter(Boolean).join(" ") || "—"),
      d.score !== undefined ? [h("dt", {}, "Design check score"), h("dd", {}, d.score.toFixed(2))] : null,
      h("dt", {}, "Tables"), h("dd", { id: "design-tables" }, tables.map((t) => `${t.name} (${(t.columns || []).length} columns)`).join(", ") || "—"),
      h("dt", {}, "Created"), h("dd", {}, date(d.created_at))),
    form,
    h("h2", {}, "Spec"),
    h("pre", { id: "design-spec", class: "card spec", tabindex: "0", "aria-label": "The design's spec as JSON" }, JSON.stringify(d.spec, null, 2)));
}

// ---- storage destinations -----------------------------------------------------

export async function destinationsView(ui) {
  const { h, guard, status, table, date, view } = ui;
  const list = h("div", { id: "destinations-list" }, "Loading…");
  view.replaceChildren(h("h1", {}, "Storage destinations"),
    h("p", { class: "help" }, "Buckets of your own that outputs are written to. Adding one needs its credentials (POST /v1/destinations, or synthos destinations add); verifying writes, reads back and deletes a probe object, and needs an admin key."),
    list);
  const load = () => guard(async () => {
    const { destinations } = await get("/v1/destinations");
    list.replaceChildren(table(["Name", "URL", "Region", "Verified", ""],
      destinations.map((d) => h("tr", {}, h("td", {}, d.name || d.id), h("td", { class: "mono" }, d.url), h("td", {}, d.region || "—"),
        h("td", {}, date(d.verified_at)),
        h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Verify destination ${d.name || d.id}`, onclick: () => guard(async () => {
          const v = await call("POST", `/v1/destinations/${enc(d.id)}/verify`);
          status(`Destination ${v.name || v.id} verified at ${date(v.verified_at)}.`);
          load();
        }) }, "Verify"))))));
  });
  await load();
}

// ---- audit log ------------------------------------------------------------------

const RECENT = 10;

function b64(s) {
  return Uint8Array.from(atob(s || ""), (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

const node = (l, r) => sha256(Uint8Array.of(1), l, r);

// rootFromInclusion recomputes the RFC 6962 root from a leaf and its
// inclusion proof (the algorithm of transparency-dev/merkle's
// proof.VerifyInclusion).
async function rootFromInclusion(index, size, leafHash, proof) {
  if (index >= size) throw new Error(`index ${index} is beyond the tree of ${size}`);
  let inner = 0;
  for (let x = BigInt(index) ^ BigInt(size - 1); x > 0n; x >>= 1n) inner++;
  let border = 0;
  for (let x = BigInt(index) >> BigInt(inner); x > 0n; x >>= 1n) border += Number(x & 1n);
  if (proof.length !== inner + border) throw new Error(`the proof has ${proof.length} hashes, want ${inner + border}`);
  let h = leafHash;
  for (let i = 0; i < inner; i++) h = (BigInt(index) >> BigInt(i)) & 1n ? await node(proof[i], h) : await node(h, proof[i]);
  for (let i = inner; i < proof.length; i++) h = await node(proof[i], h);
  return h;
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// verifyProof checks a record proof: the leaf hashes to leaf_hash, and the
// inclusion proof leads to the root its checkpoint states. The checkpoint's
// signature is not checked here (the console has no trusted copy of the
// verifier key): `synthos audit verify --proof` does both.
export async function verifyProof(p) {
  // leaf is the record's canonical JSON as text (the bytes are its UTF-8).
  const leaf = new TextEncoder().encode(p.leaf || "");
  const lh = await sha256(Uint8Array.of(0), leaf);
  if (p.leaf_hash && !same(lh, b64(p.leaf_hash))) return { ok: false, why: "the leaf does not hash to leaf_hash" };
  const lines = (p.checkpoint || "").split("\n");
  const size = Number(lines[1]);
  const root = b64(lines[2]);
  if (size !== p.tree_size) return { ok: false, why: `the checkpoint states ${size} records, the proof ${p.tree_size}` };
  const got = await rootFromInclusion(p.index, p.tree_size, lh, (p.proof || []).map(b64));
  return same(got, root) ? { ok: true, root: lines[2], size } : { ok: false, why: "the proof leads to another root" };
}

export async function auditView(ui) {
  const { h, guard, status, table, date, view, save } = ui;
  const head = h("div", { id: "audit-head" }, "Loading…");
  const list = h("div", { id: "audit-list" });
  const result = h("p", { id: "audit-verify", class: "wrap", "aria-live": "polite" });
  view.replaceChildren(h("h1", {}, "Audit log"),
    h("p", { class: "help" }, "Every action on your tenant is a leaf of a signed Merkle tree. Verify checks a record's inclusion proof against the checkpoint's root in this browser; the checkpoint's signature is checked offline with the verifier key (synthos audit verify --proof on the downloaded proof)."),
    head, result, list);
  await guard(async () => {
    const cp = await get("/v1/audit/checkpoint").catch((e) => {
      if (e.status === 404) return null;
      throw e;
    });
    if (!cp) {
      head.replaceChildren(h("p", {}, "No audit records yet."));
      return;
    }
    head.replaceChildren(h("dl", { class: "facts card" }, h("dt", {}, "Log"), h("dd", { class: "mono" }, cp.log),
      h("dt", {}, "Records"), h("dd", { id: "audit-size" }, cp.size), h("dt", {}, "Verifier key"), h("dd", { class: "mono wrap" }, cp.verifier_key)));
    const seqs = [];
    for (let s = cp.size; s >= 1 && seqs.length < RECENT; s--) seqs.push(s);
    const proofs = await Promise.all(seqs.map((s) => get(`/v1/audit/${s}/proof`)));
    list.replaceChildren(table(["#", "When", "Action", "Resource", "Outcome", "Actor", ""],
      proofs.map((p) => {
        const r = p.record || {};
        return h("tr", {}, h("td", { class: "num" }, p.seq), h("td", {}, date(r.at)), h("td", {}, r.action), h("td", { class: "mono" }, r.resource || ""),
          h("td", {}, r.outcome || ""), h("td", { class: "mono" }, r.actor || ""),
          h("td", {},
            h("button", { type: "button", class: "secondary verify-proof", "aria-label": `Verify record ${p.seq}`, onclick: () => guard(async () => {
              const v = await verifyProof(p);
              result.className = "wrap " + (v.ok ? "ok" : "bad");
              result.textContent = v.ok ? `Record ${p.seq} is included in the log of ${v.size} records (root ${v.root}).` : `Record ${p.seq} did not verify: ${v.why}.`;
              status(result.textContent);
            }) }, "Verify"),
            h("button", { type: "button", class: "secondary", "aria-label": `Download the proof of record ${p.seq}`, onclick: () => save(new Blob([JSON.stringify(p, null, 2)], { type: "application/json" }), `synthos-audit-${p.seq}.json`) }, "Download proof")));
      }), `The ${proofs.length} most recent records, newest first.`));
  });
}
