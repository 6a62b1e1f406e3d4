// Shared by the tests: the OpenAPI document's operations, and the local
// platform the Go test (clients/clients_test.go) starts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const pkgDir = fileURLToPath(new URL("..", import.meta.url));
export const repoDir = fileURLToPath(new URL("../../..", import.meta.url));
export const specPath = fileURLToPath(new URL("../../../functions/api/openapi.json", import.meta.url));

const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/** specOperations lists {operationId, method, path} of every operation in openapi.json. */
export function specOperations() {
  const doc = JSON.parse(readFileSync(specPath, "utf8"));
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      if (item[method]) out.push({ operationId: item[method].operationId, method, path });
    }
  }
  return out;
}

/**
 * platform answers the local platform's URL and key from SYNTHOS_API and
 * SYNTHOS_API_KEY, or a skip reason without them (a failure under CI=true,
 * where the Go test always sets them).
 */
export function platform() {
  const api = process.env.SYNTHOS_API;
  const key = process.env.SYNTHOS_API_KEY;
  if (api && key) return { api, key, skip: false };
  const why = "SYNTHOS_API and SYNTHOS_API_KEY are not set: the platform tests need a running Synthos platform (go test ./clients starts one)";
  if (process.env.CI === "true") throw new Error(why);
  return { skip: why };
}
