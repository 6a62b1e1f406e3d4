// The console's client of the Synthos JSON API (same origin). The API key
// lives in sessionStorage only: it is gone when the tab closes and is never
// written to localStorage or a cookie.

const KEY = "synthos.apiKey";

export function getKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(k) {
  if (k) sessionStorage.setItem(KEY, k);
  else sessionStorage.removeItem(KEY);
}

// ApiError carries the API's error envelope: {error: {code, message, details}}.
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || "http_" + status;
    this.details = details || null;
  }
}

async function errorFrom(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: the status says enough
  }
  const e = (body && body.error) || {};
  return new ApiError(resp.status, e.code, e.message || resp.statusText, e.details);
}

function headers(extra) {
  const h = { Authorization: "Bearer " + getKey(), ...extra };
  return h;
}

// call sends one request and returns the decoded JSON (null for 204).
// POSTs carry an Idempotency-Key so a retried click creates nothing twice.
export async function call(method, path, body, opts = {}) {
  const h = headers(opts.headers);
  let payload;
  if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method === "POST" && !h["Idempotency-Key"]) h["Idempotency-Key"] = crypto.randomUUID();
  const resp = await fetch(path, { method, headers: h, body: payload, cache: "no-store" });
  if (!resp.ok) throw await errorFrom(resp);
  if (resp.status === 204) return null;
  const ct = resp.headers.get("Content-Type") || "";
  return ct.includes("json") ? resp.json() : resp.text();
}

export const get = (path) => call("GET", path);

// blob fetches an authenticated resource as a Blob (reports, outputs).
export async function blob(path) {
  const resp = await fetch(path, { headers: headers(), cache: "no-store" });
  if (!resp.ok) throw await errorFrom(resp);
  return resp.blob();
}

// upload sends file as multipart field "file" (and fields as other form
// fields) with XMLHttpRequest, whose upload events report progress (fetch
// has none for request bodies).
export function upload(path, file, onProgress, fields = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Authorization", "Bearer " + getKey());
    xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID());
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded, ev.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const e = (body && body.error) || {};
      reject(new ApiError(xhr.status, e.code, e.message || xhr.statusText, e.details));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "the upload did not reach the server")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "the upload was cancelled")));
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

// Poller calls fn until it returns true (done) or stop() is called, waiting
// min ms after a change and doubling the wait, up to max, while nothing
// changes (fn returns "same"). Errors back off the same way.
export class Poller {
  constructor(fn, { min = 1000, max = 15000 } = {}) {
    this.fn = fn;
    this.min = min;
    this.max = max;
    this.wait = min;
    this.timer = 0;
    this.stopped = false;
  }
  start() {
    this.tick();
    return this;
  }
  async tick() {
    if (this.stopped) return;
    this.busy = true;
    let r;
    try {
      r = await this.fn();
    } catch (e) {
      r = e;
    }
    this.busy = false;
    if (this.stopped || r === true) return;
    this.wait = r === "changed" ? this.min : Math.min(this.wait * 2, this.max);
    this.timer = setTimeout(() => this.tick(), this.wait);
  }
  // now polls at once and from the shortest wait again (something else,
  // such as the live stream, saw a change).
  now() {
    if (this.stopped || this.busy) return;
    clearTimeout(this.timer);
    this.wait = this.min;
    this.tick();
  }
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

// stream reads a text/event-stream with the key in the Authorization header
// (EventSource cannot send one) and calls onEvent(name, data) per event
// until signal aborts or the server ends the stream. It resolves when the
// stream ends and rejects on an error answer.
export async function stream(path, onEvent, signal) {
  const resp = await fetch(path, { headers: headers({ Accept: "text/event-stream" }), cache: "no-store", signal });
  if (!resp.ok) throw await errorFrom(resp);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (data.length) onEvent(name, data.join("\n"));
        name = "message";
        data = [];
      } else if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
  }
}
