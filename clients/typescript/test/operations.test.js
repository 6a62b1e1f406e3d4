// Every operation of functions/api/openapi.json is in the generated paths
// type (so client.api.GET/POST/… accepts it, checked by tsc) and callable
// through client.call by its operationId, which sends its method and path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { Synthos, operations } from "../dist/index.js";
import { pkgDir, specOperations } from "../testing/helpers.mjs";

// typedOperations reads the generated interface `paths` with the TypeScript
// parser: the methods each path declares with an operation (absent methods
// are declared `?: never`).
function typedOperations() {
  const file = join(pkgDir, "src", "schema.ts");
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const paths = src.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === "paths");
  assert.ok(paths, "src/schema.ts declares no interface paths");
  const found = new Map();
  for (const member of paths.members) {
    const path = member.name.text;
    for (const m of member.type.members) {
      const method = m.name.text;
      if (method === "parameters" || m.type.kind === ts.SyntaxKind.NeverKeyword) continue;
      // get: operations["getJob"]
      const id = m.type.indexType?.literal?.text;
      found.set(`${method} ${path}`, id);
    }
  }
  return found;
}

const spec = specOperations();

test("the document has operations to check", () => {
  assert.ok(spec.length > 0, "no operations read from openapi.json");
});

test("every operation is in the generated paths type, with its operationId", () => {
  const typed = typedOperations();
  for (const op of spec) {
    assert.equal(typed.get(`${op.method} ${op.path}`), op.operationId, `${op.method.toUpperCase()} ${op.path} is missing from paths in src/schema.ts`);
  }
  assert.equal(typed.size, spec.length, "paths in src/schema.ts has operations the document does not");
});

test("openapi-fetch's typed client accepts every operation's method and path (tsc)", () => {
  // One line per operation, compiled: a path the typed client does not
  // take for that method is a type error naming the line. The last line
  // is a method the document lacks, which must be refused, so the check
  // cannot pass by accepting everything.
  const lines = spec.map((op) => `ok<Has<${JSON.stringify(op.method)}, ${JSON.stringify(op.path)}>>(true); // ${op.operationId}`);
  const text = [
    `import type { paths } from "../src/schema.js";`,
    `import type { HttpMethod, PathsWithMethod } from "openapi-typescript-helpers";`,
    `type Has<M extends HttpMethod, P extends string> = P extends PathsWithMethod<paths, M> ? true : false;`,
    `declare function ok<T>(v: T): void;`,
    ...lines,
    `ok<Has<"delete", "/healthz">>(false);`,
  ].join("\n");
  // Inside the package, so that the imports resolve as the client's do.
  const dir = mkdtempSync(join(pkgDir, ".typecheck-"));
  try {
    const file = join(dir, "operations.ts");
    writeFileSync(file, text);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file ? text.split("\n")[d.file.getLineAndCharacterOfPosition(d.start).line] : "";
      return `${ts.flattenDiagnosticMessageText(d.messageText, " ")} at: ${line}`;
    });
    assert.deepEqual(errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every operationId is callable through client.call with its method and path", async () => {
  assert.deepEqual(Object.keys(operations).sort(), spec.map((o) => o.operationId).sort());
  const seen = [];
  const client = new Synthos({
    baseUrl: "http://synthos.test",
    apiKey: "sk_test_x",
    fetch: async (input, init) => {
      const req = new Request(input, init);
      seen.push({ method: req.method, url: new URL(req.url), auth: req.headers.get("Authorization") });
      return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
    },
  });
  for (const op of spec) {
    seen.length = 0;
    const path = {};
    for (const name of operations[op.operationId].path_params) path[name] = `${name}-1`;
    const body = operations[op.operationId].request === "none" ? undefined : operations[op.operationId].request === "multipart" ? new FormData() : operations[op.operationId].request === "binary" ? new Uint8Array([1]) : {};
    await client.call(op.operationId, { path, body });
    assert.equal(seen.length, 1, `${op.operationId} sent ${seen.length} requests`);
    assert.equal(seen[0].method, op.method.toUpperCase(), op.operationId);
    const want = op.path.replace(/\{(\w+)\}/g, (_, name) => `${name}-1`);
    assert.equal(decodeURIComponent(seen[0].url.pathname), want, op.operationId);
    assert.equal(seen[0].auth, "Bearer sk_test_x", op.operationId);
  }
});

test("call refuses an unknown operation and a missing path parameter", async () => {
  const client = new Synthos({ baseUrl: "http://synthos.test", apiKey: "k", fetch: () => assert.fail("no request expected") });
  await assert.rejects(client.call("noSuchOperation"), /unknown operation "noSuchOperation"/);
  await assert.rejects(client.call("getJob", {}), /path parameter id is required/);
});
