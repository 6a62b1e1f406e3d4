// The committed generated files and dist/ are what the generator and the
// compiler make from today's sources: a change to functions/api/openapi.json
// or src/ without `npm run generate && npm run build` fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "../scripts/generate.mjs";
import { pkgDir } from "../testing/helpers.mjs";

test("src/schema.ts and src/operations.ts are generated from today's openapi.json", async () => {
  for (const [name, want] of Object.entries(await render())) {
    const got = readFileSync(join(pkgDir, "src", name), "utf8");
    assert.ok(got === want, `src/${name} is stale: run npm run generate && npm run build in clients/typescript`);
  }
});

test("dist/ is the compiled src/", () => {
  const out = mkdtempSync(join(tmpdir(), "synthos-dist-"));
  try {
    execFileSync(process.execPath, [join(pkgDir, "node_modules", "typescript", "bin", "tsc"), "-p", join(pkgDir, "tsconfig.json"), "--outDir", out], {
      stdio: "pipe",
    });
    const want = readdirSync(out).sort();
    assert.deepEqual(readdirSync(join(pkgDir, "dist")).sort(), want, "dist/ holds other files than tsc makes: run npm run build");
    for (const name of want) {
      const same = readFileSync(join(out, name), "utf8") === readFileSync(join(pkgDir, "dist", name), "utf8");
      assert.ok(same, `dist/${name} is stale: run npm run build in clients/typescript`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
