// The Synthos console: a hash router over views that call the JSON API.
// Every element is built with the DOM API (no innerHTML with API data), so
// names and values from datasets cannot inject markup.

import { ApiError, Poller, blob, call, get, getKey, setKey, stream, upload } from "./api.js";
import { checkConditions, checkRules, missingValues } from "./data.js";

const $ = (sel) => document.querySelector(sel);
const view = $("#view");
let current = null; // cleanup of the view on screen (pollers)

// h builds an element: h("a", {href: "#"}, "text", child…). on* attributes
// bind listeners; null and false children are skipped.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function status(msg) {
  $("#status").textContent = msg;
}

function alertError(e) {
  const el = $("#alert");
  if (!e) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  let msg = e instanceof ApiError ? `${e.message} (${e.code})` : String(e.message || e);
  if (e instanceof ApiError && e.status === 401) {
    msg = "The API key was not accepted; sign in again.";
    signOut();
  }
  el.textContent = msg;
  el.hidden = false;
}

// guard runs an async action, reporting its error in the alert region.
async function guard(fn) {
  alertError(null);
  try {
    return await fn();
  } catch (e) {
    alertError(e);
    return undefined;
  }
}

const fmt = new Intl.NumberFormat();
const num = (n) => (n === undefined || n === null ? "—" : fmt.format(n));
const date = (s) => (s ? new Date(s).toLocaleString() : "—");
const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

function table(headers, rows, caption) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", { class: "help" }, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label || c)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length }, "None yet.")))));
}

// save offers b as a download named name.
function save(b, name) {
  const url = URL.createObjectURL(b);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- datasets -------------------------------------------------------------

// Missing-value counts of the files uploaded from this tab, by dataset id.
const MISSING_PREFIX = "synthos.missing.";

async function datasetsView() {
  const progress = h("progress", { id: "upload-progress", max: 100, value: 0, "aria-label": "Upload progress", hidden: true });
  const file = h("input", { id: "upload-file", type: "file", accept: ".csv,.tsv,.jsonl,.parquet", required: true });
  const form = h("form", { class: "card", id: "upload-form" },
    h("h2", {}, "Upload a dataset"),
    h("label", { for: "upload-file" }, "Table (CSV, TSV, JSON Lines or Parquet; the format comes from the file name)"),
    file, progress,
    h("button", { type: "submit" }, "Upload"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) return;
    guard(async () => {
      progress.hidden = false;
      progress.value = 0;
      status(`Uploading ${f.name}…`);
      let lastPct = -1;
      const ds = await upload("/v1/datasets", f, (loaded, total) => {
        const p = Math.floor((loaded / total) * 100);
        progress.value = p;
        if (p >= lastPct + 25) {
          lastPct = p;
          status(`Uploading ${f.name}: ${p}%`);
        }
      });
      progress.value = 100;
      // The API's profile has kinds and PII; missing values are counted
      // here from the same bytes (delimited text up to 16 MiB).
      const ext = f.name.toLowerCase().split(".").pop();
      if ((ext === "csv" || ext === "tsv") && f.size <= 16 << 20) {
        const mv = missingValues(await f.text(), ext === "tsv" ? "\t" : ",");
        if (mv) sessionStorage.setItem(MISSING_PREFIX + ds.id, JSON.stringify(mv));
      }
      status(`Uploaded ${f.name}: dataset ${ds.id} is ${ds.status}.`);
      location.hash = "#/datasets/" + encodeURIComponent(ds.id);
    });
  });
  const list = h("div", {}, "Loading…");
  view.replaceChildren(h("h1", {}, "Datasets"), form, h("h2", {}, "Your datasets"), list);
  await guard(async () => {
    const { datasets } = await get("/v1/datasets");
    list.replaceChildren(table(["Name", "Status", { label: "Rows", num: true }, "Uploaded", "Id"],
      datasets.map((d) => h("tr", {},
        h("td", {}, h("a", { href: "#/datasets/" + encodeURIComponent(d.id) }, d.name)),
        h("td", {}, d.status), h("td", { class: "num" }, num(d.rows)), h("td", {}, date(d.created_at)),
        h("td", { class: "mono" }, d.id)))));
  });
}

async function datasetView(id) {
  view.replaceChildren(h("h1", {}, "Dataset"), h("p", {}, "Loading…"));
  const d = await guard(() => get("/v1/datasets/" + encodeURIComponent(id)));
  if (!d) return;
  const mv = JSON.parse(sessionStorage.getItem(MISSING_PREFIX + id) || "null");
  const missing = new Map((mv ? mv.columns : []).map((c) => [c.name, c.missing]));
  const cols = d.columns || [];
  const pii = cols.filter((c) => c.kind === "pii" || c.pii);
  const parts = [
    h("h1", {}, "Dataset ", h("span", { class: "mono" }, d.name)),
    h("dl", { class: "facts card" },
      h("dt", {}, "Id"), h("dd", { class: "mono" }, d.id),
      h("dt", {}, "Status"), h("dd", {}, d.status),
      h("dt", {}, "Format"), h("dd", {}, d.format),
      h("dt", {}, "Rows"), h("dd", {}, num(d.rows)),
      h("dt", {}, "Size"), h("dd", {}, num(d.size) + " bytes"),
      h("dt", {}, "PII found"), h("dd", { id: "pii-summary" }, pii.length ? pii.map((c) => `${c.name} (${c.pii || "pii"})`).join(", ") : "none")),
  ];
  if (d.problem) parts.push(h("p", { class: "alert" }, `Invalid: ${d.problem.message}` + (d.problem.row ? ` (row ${d.problem.row})` : "")));
  parts.push(h("h2", {}, "Profile"),
    table(["Column", "Kind", "PII", { label: "Missing", num: true }],
      cols.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.kind), h("td", {}, c.pii || ""),
        h("td", { class: "num" }, missing.has(c.name) ? `${num(missing.get(c.name))} of ${num(mv.rows)}` : "—"))),
      mv ? "Missing values were counted in this browser from the uploaded file." : "Missing values are counted for tables uploaded from this tab (the API's profile reports kinds and PII)."));
  if (d.status === "ready") parts.push(h("a", { class: "button", href: "#/jobs/new?dataset=" + encodeURIComponent(d.id) }, "Create a job from this dataset"));
  const budget = h("div", { id: "budget" });
  parts.push(h("h2", {}, "Privacy budget"), budget);
  view.replaceChildren(...parts);
  renderBudget(budget, d.id);
}

async function renderBudget(el, id) {
  const path = `/v1/datasets/${encodeURIComponent(id)}/privacy-budget`;
  const b = await guard(() => get(path));
  if (!b) return;
  const eps = h("input", { id: "cap-eps", type: "number", min: "0", step: "any", value: b.cap_epsilon, required: true });
  const form = h("form", { class: "card" },
    h("dl", { class: "facts" },
      h("dt", {}, "Cap ε"), h("dd", {}, b.cap_epsilon), h("dt", {}, "δ"), h("dd", {}, b.delta),
      h("dt", {}, "Spent ε"), h("dd", {}, b.spent_epsilon.toFixed(3)),
      h("dt", {}, "Reserved ε"), h("dd", {}, b.reserved_epsilon.toFixed(3)),
      h("dt", {}, "Remaining ε"), h("dd", {}, b.remaining_epsilon.toFixed(3))),
    h("label", { for: "cap-eps" }, "New cap ε (admin keys)"), eps,
    h("button", { type: "submit" }, "Set cap"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      await call("PUT", path, { epsilon: Number(eps.value) });
      status("Privacy budget cap set.");
      renderBudget(el, id);
    });
  });
  el.replaceChildren(form);
}

// ---- jobs -----------------------------------------------------------------

async function newJobView(params) {
  view.replaceChildren(h("h1", {}, "Create a job"), h("p", {}, "Loading…"));
  const list = await guard(() => get("/v1/datasets"));
  if (!list) return;
  const ready = list.datasets.filter((d) => d.status === "ready");
  if (!ready.length) {
    view.replaceChildren(h("h1", {}, "Create a job"), h("p", {}, "No ready dataset yet: ", h("a", { href: "#/datasets" }, "upload one"), " first."));
    return;
  }
  const byId = new Map(ready.map((d) => [d.id, d]));
  const dataset = h("select", { id: "job-dataset" }, ready.map((d) => h("option", { value: d.id, selected: d.id === params.get("dataset") }, `${d.name} (${d.id})`)));
  const model = h("select", { id: "job-model" },
    h("option", { value: "tree" }, "tree: sequential trees (default)"),
    h("option", { value: "copula" }, "copula: Gaussian copula"),
    h("option", { value: "dp" }, "dp: differentially private"));
  const rows = h("input", { id: "job-rows", type: "number", min: "1", step: "1", value: "1000", required: true });
  const eps = h("input", { id: "job-epsilon", type: "number", min: "0", step: "any", placeholder: "e.g. 1.0", "aria-describedby": "eps-help" });
  const seed = h("input", { id: "job-seed", type: "number", step: "1", placeholder: "random" });
  const format = h("select", { id: "job-format" }, ["csv", "jsonl", "parquet"].map((f) => h("option", { value: f }, f)));
  const rules = h("textarea", { id: "job-rules", spellcheck: "false", placeholder: '{"rules": [{"type": "range", "column": "age", "min": 18, "max": 65}]}', "aria-describedby": "rules-help rules-errors" });
  const errors = h("ul", { id: "rules-errors", class: "errors", "aria-live": "polite" });
  const conds = h("div", { id: "conditions" });
  const columns = () => (byId.get(dataset.value).columns || []).map((c) => c.name);
  const colList = h("datalist", { id: "column-names" });
  const refreshCols = () => colList.replaceChildren(...columns().map((c) => h("option", { value: c })));
  let condN = 0;
  const addCond = () => {
    const n = ++condN;
    const col = h("input", { id: `cond-col-${n}`, list: "column-names", class: "cond-col" });
    const val = h("input", { id: `cond-val-${n}`, class: "cond-val" });
    const row = h("div", { class: "cond" },
      h("div", {}, h("label", { for: col.id }, "Column"), col),
      h("div", {}, h("label", { for: val.id }, "Fixed value"), val),
      h("button", { type: "button", class: "secondary", onclick: () => { row.remove(); validate(); } }, "Remove"));
    conds.append(row);
    col.addEventListener("input", validate);
    col.focus();
  };
  const validate = () => {
    const r = checkRules(rules.value, columns());
    const pairs = [...conds.querySelectorAll(".cond")].map((row) => ({ column: row.querySelector(".cond-col").value.trim(), value: row.querySelector(".cond-val").value }));
    const c = checkConditions(pairs, columns());
    const all = [...r.errors, ...c.errors];
    errors.replaceChildren(...all.map((e) => h("li", {}, e)));
    rules.setAttribute("aria-invalid", r.errors.length ? "true" : "false");
    return { ok: all.length === 0, rules: r.rules, conditions: c.conditions };
  };
  rules.addEventListener("input", validate);
  dataset.addEventListener("change", () => { refreshCols(); validate(); });
  refreshCols();
  const form = h("form", { class: "card", id: "job-form" },
    h("div", { class: "grid" },
      h("div", {}, h("label", { for: "job-dataset" }, "Dataset"), dataset),
      h("div", {}, h("label", { for: "job-model" }, "Model"), model),
      h("div", {}, h("label", { for: "job-rows" }, "Rows to generate"), rows),
      h("div", {}, h("label", { for: "job-epsilon" }, "Privacy budget ε (dp model)"), eps,
        h("p", { id: "eps-help", class: "help" }, "Used by the dp model and charged to the dataset's privacy budget.")),
      h("div", {}, h("label", { for: "job-seed" }, "Seed"), seed),
      h("div", {}, h("label", { for: "job-format" }, "Output format"), format)),
    h("label", { for: "job-rules" }, "Business rules (JSON)"), rules,
    h("p", { id: "rules-help", class: "help" }, "Rule types: compare, range, combination, unique, format, in. Column names are checked against the dataset."),
    errors,
    h("fieldset", { class: "card" }, h("legend", {}, "Conditions: fixed column values"), conds, colList,
      h("button", { type: "button", class: "secondary", onclick: addCond }, "Add a condition")),
    h("button", { type: "submit" }, "Create job"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = validate();
    if (!v.ok) {
      rules.focus();
      status("Fix the listed problems first.");
      return;
    }
    const body = { dataset: dataset.value, rows: Number(rows.value), model: model.value, format: format.value };
    if (eps.value !== "") body.epsilon = Number(eps.value);
    if (seed.value !== "") body.seed = Number(seed.value);
    if (v.rules) body.rules = v.rules;
    if (v.conditions) body.conditions = v.conditions;
    guard(async () => {
      const j = await call("POST", "/v1/jobs", body);
      status(`Job ${j.id} created (${j.state}).`);
      location.hash = "#/jobs/" + encodeURIComponent(j.id);
    });
  });
  view.replaceChildren(h("h1", {}, "Create a job"), form);
}

function stateCell(s) {
  return h("span", { class: "state state-" + s }, s);
}

// live follows /v1/analytics/live into el: today's figures and the running
// jobs with their shards; onChange runs when the running set changes. It
// reconnects with backoff until signal aborts.
async function live(el, signal, onChange) {
  let last = "";
  let wait = 1000;
  while (!signal.aborted) {
    try {
      await stream("/v1/analytics/live?interval=2s", (name, data) => {
        if (name !== "snapshot") return;
        wait = 1000;
        const s = JSON.parse(data);
        const t = s.today || {};
        const running = s.running || [];
        // replaceChildren would print a null; h skips it.
        el.replaceChildren(h("div", {},
          h("p", { id: "live-today" }, `Today: ${num(t.jobs)} jobs, ${num(t.failed)} failed, ${num(t.rows)} rows (${num(Math.round(t.rows_per_hour || 0))} rows an hour). ${running.length} running now.`),
          running.length ? table(["Running job", "State", { label: "Shards done", num: true }, { label: "Seconds", num: true }],
            running.map((j) => h("tr", {}, h("td", {}, h("a", { href: "#/jobs/" + encodeURIComponent(j.id), class: "mono" }, j.id)),
              h("td", {}, stateCell(j.state)), h("td", { class: "num" }, `${num(j.shards_done)} of ${num(j.shards)}`),
              h("td", { class: "num" }, num(Math.round(j.running_seconds || 0)))))) : null));
        const sig = running.map((j) => j.id + j.state + j.shards_done).join();
        if (sig !== last) {
          last = sig;
          onChange();
        }
      }, signal);
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
        el.replaceChildren(h("p", { class: "help" }, `Live figures unavailable: ${e.message}`));
        return;
      }
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 30000);
  }
}

async function jobsView() {
  const list = h("div", { id: "jobs-list" }, "Loading…");
  const liveBox = h("div", { id: "live", class: "card", "aria-live": "off" }, "Connecting to the live feed…");
  view.replaceChildren(h("h1", {}, "Jobs"), h("a", { class: "button", href: "#/jobs/new" }, "Create a job"),
    h("h2", {}, "Live"), liveBox,
    h("p", { class: "help" }, "The list refreshes when the live feed sees a change, and on its own every few seconds."), list);
  let last = "";
  const poller = new Poller(async () => {
    const { jobs } = await get("/v1/jobs");
    const sig = jobs.map((j) => j.id + j.state).join();
    if (sig === last) return "same";
    last = sig;
    list.replaceChildren(table(["Job", "State", "Dataset", "Model", { label: "Rows", num: true }, "Updated"],
      jobs.map((j) => h("tr", {},
        h("td", {}, h("a", { href: "#/jobs/" + encodeURIComponent(j.id), class: "mono" }, j.id)),
        h("td", {}, stateCell(j.state)), h("td", { class: "mono" }, j.request.dataset), h("td", {}, j.request.model),
        h("td", { class: "num" }, num(j.request.rows)), h("td", {}, date(j.updated_at))))));
    // Keep watching when every job is finished, at the slowest pace: a
    // job created elsewhere (CLI, API) still shows up.
    return "changed";
  }).start();
  const abort = new AbortController();
  live(liveBox, abort.signal, () => poller.now());
  current = () => {
    poller.stop();
    abort.abort();
  };
}

async function jobView(id) {
  const enc = encodeURIComponent(id);
  const box = h("div", { id: "job" }, "Loading…");
  const actions = h("div", { id: "job-actions" });
  const detail = h("div", { id: "job-detail" });
  view.replaceChildren(h("h1", {}, "Job ", h("span", { class: "mono" }, id)), box, actions, detail);
  let lastState = "";
  const poller = new Poller(async () => {
    const j = await get("/v1/jobs/" + enc);
    if (j.state === lastState) return "same";
    lastState = j.state;
    status(`Job ${j.id}: ${j.state}`);
    box.replaceChildren(h("dl", { class: "facts card" },
      h("dt", {}, "State"), h("dd", { id: "job-state", "data-state": j.state }, stateCell(j.state)),
      h("dt", {}, "Dataset"), h("dd", {}, h("a", { href: "#/datasets/" + encodeURIComponent(j.request.dataset), class: "mono" }, j.request.dataset)),
      h("dt", {}, "Model"), h("dd", {}, j.request.model),
      h("dt", {}, "Rows"), h("dd", {}, num(j.request.rows)),
      j.request.epsilon ? [h("dt", {}, "ε"), h("dd", {}, j.request.epsilon)] : null,
      h("dt", {}, "Created"), h("dd", {}, date(j.created_at)),
      h("dt", {}, "Updated"), h("dd", {}, date(j.updated_at)),
      j.error ? [h("dt", {}, "Error"), h("dd", { class: "bad" }, `${j.error} (${j.error_code || "error"})`)] : null,
      j.reasons && j.reasons.length ? [h("dt", {}, "Reasons"), h("dd", {}, j.reasons.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("; "))] : null));
    actions.replaceChildren();
    if (!TERMINAL.has(j.state)) {
      actions.append(h("button", { type: "button", class: "danger", onclick: () => guard(async () => { await call("POST", `/v1/jobs/${enc}/cancel`); status("Cancel requested."); }) }, "Cancel job"));
    }
    if (j.state === "succeeded") {
      actions.append(
        h("button", { type: "button", id: "open-report", onclick: () => guard(() => showReport(enc, detail)) }, "Open the report"),
        h("button", { type: "button", id: "open-compliance", class: "secondary", onclick: () => guard(() => showCompliance(enc, detail)) }, "Compliance evidence"),
        h("button", { type: "button", id: "download-output", class: "secondary", onclick: () => guard(() => downloadOutput(enc, j)) }, "Download the output"),
        h("button", { type: "button", class: "secondary", onclick: () => guard(async () => save(await blob(`/v1/jobs/${enc}/report?format=html`), `synthos-report-${id}.html`)) }, "Download the HTML report"),
        h("button", { type: "button", class: "secondary", onclick: () => guard(async () => save(await blob(`/v1/jobs/${enc}/compliance?format=html`), `synthos-compliance-${id}.html`)) }, "Download the compliance page"));
    }
    return TERMINAL.has(j.state) ? true : "changed";
  }).start();
  current = () => poller.stop();
}

async function downloadOutput(enc, j) {
  const d = await get(`/v1/jobs/${enc}/output`);
  const name = `synthos-${j.id}.${j.request.format || "csv"}`;
  if (d.authenticated) {
    // The URL needs the key: fetch it here and hand the bytes over.
    save(await blob(new URL(d.url).pathname), name);
  } else {
    // A signed URL: the browser downloads it directly.
    const a = h("a", { href: d.url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  }
  status(`Downloading ${name}.`);
}

async function showReport(enc, el) {
  const r = await get(`/v1/jobs/${enc}/report`);
  const q = r.quality || {};
  const p = r.privacy;
  const gate = r.gate;
  el.replaceChildren(h("section", { id: "report", "aria-labelledby": "report-title", class: "card" },
    h("h2", { id: "report-title", tabindex: "-1" }, "Evaluation and privacy report"),
    gate ? h("p", { id: "gate", class: gate.pass ? "ok" : "bad" }, gate.pass ? "Release gate: passed" : "Release gate: failed") : null,
    h("dl", { class: "facts" },
      h("dt", {}, "Overall quality"), h("dd", { id: "quality-overall" }, pct(q.overall)),
      h("dt", {}, "Column shapes"), h("dd", {}, pct(q.column_shapes)),
      q.column_pair_trends !== undefined ? [h("dt", {}, "Column pair trends"), h("dd", {}, pct(q.column_pair_trends))] : null,
      h("dt", {}, "Rows compared"), h("dd", {}, `${num(q.real_rows)} real, ${num(q.synthetic_rows)} synthetic`),
      p && p.identical ? [h("dt", {}, "Exact copies of training rows"),
        h("dd", {}, `${pct(p.identical.synthetic_share)} of synthetic rows (unseen rows: ${pct(p.identical.holdout_share)})`)] : null),
    (q.columns || []).length ? [h("h3", {}, "Column shapes"), shapeChart(q.columns)] : null,
    h("h3", {}, "Verdicts"),
    h("ul", { class: "verdicts" }, (r.verdicts || []).map((v) => h("li", {}, h("strong", { class: v.level === "good" ? "ok" : v.level === "poor" ? "bad" : "warn" }, v.title + ": "), v.text))),
    gate && gate.reasons ? [h("h3", {}, "Gate checks"),
      table(["Metric", "Status", { label: "Value", num: true }, "Threshold"],
        gate.reasons.map((x) => h("tr", {}, h("td", {}, x.metric), h("td", {}, x.status),
          h("td", { class: "num" }, x.value === null || x.value === undefined ? "—" : x.value.toFixed(3)),
          h("td", {}, `${x.op === "<=" ? "≤" : "≥"} ${x.threshold}`))))] : null,
    (r.notes || []).length ? h("ul", { class: "help" }, r.notes.map((n) => h("li", {}, n))) : null));
  el.querySelector("#report-title").focus();
  status("Report loaded.");
}

// shapeChart draws each column's shape score (0..1) as a horizontal bar,
// lowest first: the report's main chart, drawn here from the JSON report
// because the HTML report's inline script cannot run under this page's
// policy (see README, "Web console").
function shapeChart(columns) {
  const ns = "http://www.w3.org/2000/svg";
  const cols = [...columns].sort((a, b) => a.shape - b.shape);
  const row = 22, left = 150, W = 600;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${cols.length * row + 4}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("id", "shape-chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Column shape scores: " + cols.map((c) => `${c.name} ${pct(c.shape)}`).join(", "));
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  cols.forEach((c, i) => {
    const y = i * row + 2;
    el("text", { x: left - 6, y: y + 14, "text-anchor": "end" }, c.name.length > 20 ? c.name.slice(0, 19) + "…" : c.name);
    const bar = el("rect", { x: left, y, width: Math.max(1, (W - left - 60) * c.shape), height: row - 6, class: "bar" });
    const t = document.createElementNS(ns, "title");
    t.textContent = `${c.name}: ${pct(c.shape)} (${c.metric})`;
    bar.append(t);
    el("text", { x: left + (W - left - 60) * c.shape + 4, y: y + 14 }, pct(c.shape));
  });
  return svg;
}

async function showCompliance(enc, el) {
  const c = await get(`/v1/jobs/${enc}/compliance`);
  const sections = [["GDPR", c.gdpr], ["HIPAA", c.hipaa], ["CCPA", c.ccpa]].filter(([, s]) => s);
  el.replaceChildren(h("section", { id: "compliance", "aria-labelledby": "compliance-title", class: "card" },
    h("h2", { id: "compliance-title", tabindex: "-1" }, "Compliance evidence"),
    h("dl", { class: "facts" }, sections.map(([name, s]) => [h("dt", {}, name), h("dd", {}, s.verdict || "—")])),
    (c.human_actions || []).length ? [h("h3", {}, "What a person must still do"), h("ul", {}, c.human_actions.map((a) => h("li", {}, a)))] : null));
  el.querySelector("#compliance-title").focus();
  status("Compliance evidence loaded.");
}

// ---- keys -----------------------------------------------------------------

async function keysView() {
  const name = h("input", { id: "key-name", required: true, maxlength: 100 });
  const scopes = ["read", "write", "admin"].map((s) => h("input", { type: "checkbox", id: "scope-" + s, value: s, checked: s !== "admin" }));
  const test = h("input", { type: "checkbox", id: "key-test" });
  const shown = h("div", { id: "new-key", "aria-live": "polite" });
  const list = h("div", {}, "Loading…");
  const form = h("form", { class: "card" },
    h("h2", {}, "Create a key"),
    h("label", { for: "key-name" }, "Name"), name,
    h("fieldset", {}, h("legend", {}, "Scopes"), scopes.map((s) => h("label", { class: "check", for: s.id }, s, s.value)),
      h("label", { class: "check", for: "key-test" }, test, "test key (sk_test_)")),
    h("button", { type: "submit" }, "Create key"));
  const load = () => guard(async () => {
    const { keys } = await get("/v1/keys");
    list.replaceChildren(table(["Name", "Key", "Scopes", "Created", "Revoked", ""],
      keys.map((k) => h("tr", {}, h("td", {}, k.name || ""), h("td", { class: "mono" }, k.display), h("td", {}, k.scopes.join(", ")),
        h("td", {}, date(k.created_at)), h("td", {}, k.revoked_at ? date(k.revoked_at) : ""),
        h("td", {}, k.revoked_at ? "" : h("button", { type: "button", class: "danger", "aria-label": `Revoke key ${k.name || k.display}`, onclick: () => {
          if (!confirm(`Revoke ${k.display}? Calls with it fail at once.`)) return;
          guard(async () => { await call("DELETE", "/v1/keys/" + encodeURIComponent(k.id)); status("Key revoked."); load(); });
        } }, "Revoke"))))));
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      const k = await call("POST", "/v1/keys", { name: name.value, scopes: scopes.filter((s) => s.checked).map((s) => s.value), test: test.checked });
      shown.replaceChildren(h("div", { class: "secret" }, h("p", {}, "The new key, shown once; copy it now:"), h("p", { class: "mono" }, k.key)));
      status("Key created.");
      load();
    });
  });
  view.replaceChildren(h("h1", {}, "API keys"), h("p", { class: "help" }, "Managing keys needs an admin key."), form, shown, h("h2", {}, "Keys"), list);
  load();
}

// ---- webhooks -------------------------------------------------------------

async function webhooksView() {
  const url = h("input", { id: "hook-url", type: "url", required: true, placeholder: "https://example.com/synthos" });
  const desc = h("input", { id: "hook-desc" });
  const types = h("input", { id: "hook-types", placeholder: "job.succeeded, job.failed (empty: every event)" });
  const shown = h("div", { "aria-live": "polite" });
  const list = h("div", {}, "Loading…");
  const deliveries = h("div", {}, "Loading…");
  const secret = (s) => shown.replaceChildren(h("div", { class: "secret" }, h("p", {}, "Signing secret, shown once:"), h("p", { class: "mono" }, s)));
  const form = h("form", { class: "card" }, h("h2", {}, "Add an endpoint"),
    h("label", { for: "hook-url" }, "URL (https)"), url,
    h("label", { for: "hook-desc" }, "Description"), desc,
    h("label", { for: "hook-types" }, "Event types, comma-separated"), types,
    h("button", { type: "submit" }, "Add endpoint"));
  const load = () => guard(async () => {
    const { webhooks } = await get("/v1/webhooks");
    list.replaceChildren(table(["URL", "Events", "Enabled", ""],
      webhooks.map((w) => {
        const enc = encodeURIComponent(w.id);
        return h("tr", {}, h("td", { class: "mono" }, w.url), h("td", {}, (w.event_types || []).join(", ") || "all"), h("td", {}, w.enabled ? "yes" : "no"),
          h("td", {},
            h("button", { type: "button", class: "secondary", onclick: () => guard(async () => { await call("PATCH", "/v1/webhooks/" + enc, { enabled: !w.enabled }); load(); }) }, w.enabled ? "Disable" : "Enable"),
            h("button", { type: "button", class: "secondary", onclick: () => guard(async () => { const r = await call("POST", `/v1/webhooks/${enc}/rotate`); secret(r.secret); }) }, "Rotate secret"),
            h("button", { type: "button", class: "danger", onclick: () => { if (confirm("Delete this endpoint?")) guard(async () => { await call("DELETE", "/v1/webhooks/" + enc); load(); }); } }, "Delete")));
      })));
    const d = await get("/v1/webhooks/deliveries");
    deliveries.replaceChildren(table(["Event", "Endpoint", "Status", "Attempts", ""],
      (d.deliveries || []).map((x) => h("tr", {}, h("td", {}, x.event_type || ""), h("td", { class: "mono" }, x.endpoint_id || ""), h("td", {}, x.status || ""),
        h("td", { class: "num" }, num((x.attempts || []).length)),
        h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => guard(async () => { await call("POST", `/v1/webhooks/deliveries/${encodeURIComponent(x.id)}/replay`); status("Delivery replayed."); load(); }) }, "Replay"))))));
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      const body = { url: url.value, description: desc.value || undefined };
      const t = types.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (t.length) body.event_types = t;
      const w = await call("POST", "/v1/webhooks", body);
      secret(w.secret);
      status("Endpoint added.");
      load();
    });
  });
  view.replaceChildren(h("h1", {}, "Webhooks"), form, shown, h("h2", {}, "Endpoints"), list, h("h2", {}, "Recent deliveries"), deliveries);
  load();
}

// ---- usage, plan, analytics ----------------------------------------------

// bars draws an SVG bar chart of values (one bar per bucket).
function bars(values, labels, title) {
  const ns = "http://www.w3.org/2000/svg";
  const W = 600, H = 140, pad = 18;
  const max = Math.max(1, ...values);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: ${values.reduce((a, b) => a + b, 0)} in total over ${values.length} periods, at most ${max} in one`);
  const bw = (W - pad) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const r = document.createElementNS(ns, "rect");
    const bh = ((H - 2 * pad) * v) / max;
    r.setAttribute("x", pad + i * bw + 1);
    r.setAttribute("y", H - pad - bh);
    r.setAttribute("width", Math.max(1, bw - 2));
    r.setAttribute("height", bh);
    r.setAttribute("class", "bar");
    const t = document.createElementNS(ns, "title");
    t.textContent = `${labels[i]}: ${v}`;
    r.append(t);
    svg.append(r);
  });
  const axis = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: pad, x2: W, y1: H - pad, y2: H - pad, class: "axis" })) axis.setAttribute(k, v);
  svg.append(axis);
  for (const [i, anchor] of [[0, "start"], [labels.length - 1, "end"]]) {
    if (i < 0) continue;
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", anchor === "start" ? pad : W);
    t.setAttribute("y", H - 4);
    t.setAttribute("text-anchor", anchor);
    t.textContent = labels[i];
    svg.append(t);
  }
  return svg;
}

// billingBox offers the providers' pages for plan changes: a Paddle
// checkout for a plan (POST /v1/billing/checkout) and the Stripe customer
// portal (POST /v1/billing/portal). Both need an admin key; the link is
// shown for the user to follow (a window opened after an await is a popup
// browsers block), and the provider's webhook then changes the plan.
function billingBox() {
  const plan = h("input", { id: "billing-plan", value: "pro", required: true, list: "billing-plans", "aria-describedby": "billing-help" });
  const out = h("p", { id: "billing-result", "aria-live": "polite" });
  const open = (what, path, body) => guard(async () => {
    out.replaceChildren();
    const r = await call("POST", path, body);
    const a = h("a", { id: "billing-link", href: r.url, target: "_blank", rel: "noopener noreferrer" }, what);
    out.replaceChildren(a, ` (${r.provider}; opens in a new tab)`);
    a.focus();
    status(`${what}: the link is ready.`);
  });
  const form = h("form", { id: "billing-form" },
    h("label", { for: "billing-plan" }, "Plan to buy"), plan,
    h("datalist", { id: "billing-plans" }, ["pro", "enterprise"].map((p) => h("option", { value: p }))),
    h("div", { class: "actions" },
      h("button", { type: "submit", id: "billing-upgrade" }, "Upgrade"),
      h("button", { type: "button", id: "billing-portal", class: "secondary", onclick: () => open("Manage billing in the Stripe customer portal", "/v1/billing/portal") }, "Manage billing")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    open(`Continue to the Paddle checkout for ${plan.value}`, "/v1/billing/checkout", { plan: plan.value.trim() });
  });
  return h("div", {}, h("h2", {}, "Changing the plan"),
    h("p", { id: "billing-help", class: "help" }, "Upgrade opens a Paddle checkout for the plan; Manage billing opens the Stripe customer portal of a Stripe subscription. Both need an admin key; the plan shown here changes when the provider confirms the payment."),
    form, out);
}

async function usageView() {
  const plan = h("div", {}, "Loading…");
  const trends = h("div", {}, "Loading…");
  view.replaceChildren(h("h1", {}, "Usage and plan"), plan, h("h2", {}, "Trends (last 30 days)"), trends);
  await guard(async () => {
    const u = await get("/v1/usage");
    const lim = u.limits || {};
    plan.replaceChildren(h("div", { class: "card", id: "plan" },
      h("dl", { class: "facts" },
        h("dt", {}, "Plan"), h("dd", { id: "plan-name" }, u.plan),
        h("dt", {}, "Month"), h("dd", {}, u.month),
        h("dt", {}, "Rows used"), h("dd", {}, `${num(u.used)} of ${num(lim.rows_per_month)} (${num(u.reserved)} reserved by running jobs)`),
        h("dt", {}, "Rows per job"), h("dd", {}, num(lim.rows_per_job)),
        h("dt", {}, "Concurrent jobs"), h("dd", {}, `${num(u.running_jobs)} running of ${num(lim.concurrent_jobs)}`),
        h("dt", {}, "Differential privacy"), h("dd", {}, lim.dp_allowed ? "allowed" : "not in this plan"),
        h("dt", {}, "Resets"), h("dd", {}, date(u.resets_at))),
      h("label", { for: "usage-meter" }, "Monthly rows"),
      h("meter", { id: "usage-meter", min: 0, max: lim.rows_per_month || 1, low: (lim.rows_per_month || 1) * 0.8, high: (lim.rows_per_month || 1) * 0.95, optimum: 0, value: u.used + u.reserved }, `${num(u.used)} of ${num(lim.rows_per_month)}`),
      billingBox()));
  });
  await guard(async () => {
    const a = await get("/v1/analytics/usage");
    const labels = a.buckets.map((b) => b.start);
    trends.replaceChildren(h("div", { class: "card" },
      h("h3", {}, "Jobs per day"), bars(a.buckets.map((b) => b.jobs), labels, "Jobs per day"),
      h("h3", {}, "Rows generated per day"), bars(a.buckets.map((b) => b.rows || 0), labels, "Rows per day"),
      h("p", { class: "help" }, `${num(a.buckets.reduce((s, b) => s + (b.succeeded || 0), 0))} succeeded and ${num(a.buckets.reduce((s, b) => s + (b.failed || 0), 0))} failed jobs from ${a.from} to ${a.to}.`)));
  });
}

// ---- shell ----------------------------------------------------------------

const routes = [
  [/^#\/datasets\/?$/, datasetsView],
  [/^#\/datasets\/([^/?]+)$/, (m) => datasetView(decodeURIComponent(m[1]))],
  [/^#\/jobs\/new(?:\?(.*))?$/, (m) => newJobView(new URLSearchParams(m[1] || ""))],
  [/^#\/jobs\/?$/, jobsView],
  [/^#\/jobs\/([^/?]+)$/, (m) => jobView(decodeURIComponent(m[1]))],
  [/^#\/keys$/, keysView],
  [/^#\/webhooks$/, webhooksView],
  [/^#\/usage$/, usageView],
  [/^#\/models\/?$/, () => lazy("modelsView")],
  [/^#\/models\/([^/?]+)$/, (m) => lazy("modelView", decodeURIComponent(m[1]))],
  [/^#\/designs\/?$/, () => lazy("designsView")],
  [/^#\/designs\/([^/?]+)$/, (m) => lazy("designView", decodeURIComponent(m[1]))],
  [/^#\/destinations$/, () => lazy("destinationsView")],
  [/^#\/audit(?:\?.*)?$/, () => lazy("auditView")],
];

// The helpers the lazily loaded pages build with; poll runs a Poller that
// stops when the page is left.
const ui = {
  h, guard, status, table, num, date, pct, save, view,
  poll(fn) {
    const p = new Poller(fn).start();
    current = () => p.stop();
  },
};

// lazy runs a page of pages.js, fetched on first use so the first load
// carries only the main pages.
async function lazy(name, ...args) {
  const pages = await guard(() => import("./pages.js"));
  if (pages) await pages[name](ui, ...args);
}

function signOut() {
  setKey("");
  if (current) current();
  current = null;
  render();
}

async function render() {
  if (current) current();
  current = null;
  const signed = getKey() !== "";
  $("#signin").hidden = signed;
  $("#nav").hidden = !signed;
  $("#signout").hidden = !signed;
  view.hidden = !signed;
  if (!signed) {
    view.replaceChildren();
    $("#apikey").focus();
    return;
  }
  const hash = location.hash || "#/datasets";
  for (const a of document.querySelectorAll("#nav a")) {
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const [re, fn] of routes) {
    const m = hash.match(re);
    if (m) {
      await fn(m);
      return;
    }
  }
  view.replaceChildren(h("h1", {}, "Not found"), h("p", {}, "No such page: ", h("a", { href: "#/datasets" }, "go to datasets"), "."));
}

$("#signin-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("#apikey");
  const k = input.value.trim();
  guard(async () => {
    setKey(k);
    try {
      // Any read call proves the key; usage also names the plan.
      const u = await get("/v1/usage");
      status(`Signed in (plan ${u.plan}).`);
    } catch (e) {
      setKey("");
      throw e;
    }
    input.value = "";
    if (!location.hash || location.hash === "#/") location.hash = "#/datasets";
    else render();
    $("#main").focus();
  });
});
$("#signout").addEventListener("click", () => {
  signOut();
  status("Signed out.");
});
// A section picked from the menu starts with an empty status line (the
// last action's message belongs to the page it was made on).
$("#nav").addEventListener("click", (ev) => {
  if (ev.target.closest("a")) status("");
});
window.addEventListener("hashchange", () => {
  alertError(null);
  render();
  $("#main").focus();
});

render();
document.documentElement.dataset.ready = "true";
performance.mark("console-interactive");
