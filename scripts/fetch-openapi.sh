#!/usr/bin/env bash
# Extracts from GitHub's OpenAPI description (npm @octokit/openapi) the schemas of the REST
# operations and webhooks the GitHub simulator implements, into a small committed file that
# internal/harness/ghsim's contract test validates the simulator's answers against. The full
# description is ~13 MB; only the operations below and the schemas they reference are kept.
#
# Usage: scripts/fetch-openapi.sh [version]   (needs npm and node; rerun after adding an endpoint)
set -euo pipefail

version=${1:-23.0.2}
out=$(cd "$(dirname "$0")/.." && pwd)/internal/harness/ghsim/testdata/openapi.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "@octokit/openapi@$version" >/dev/null && tar xzf octokit-openapi-*.tgz)

node - "$tmp/package/generated/api.github.com.json" "$out" "$version" <<'JS'
const fs = require("fs");
const [src, out, version] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(src, "utf8"));

// "METHOD path" of every operation the simulator serves.
const operations = [
  "GET /app",
  "POST /app-manifests/{code}/conversions",
  "GET /app/installations",
  "GET /app/installations/{installation_id}",
  "POST /app/installations/{installation_id}/access_tokens",
  "GET /orgs/{org}/installation",
  "GET /repos/{owner}/{repo}/installation",
  "GET /users/{username}/installation",
  "GET /orgs/{org}/actions/runners",
  "GET /orgs/{org}/actions/runners/{runner_id}",
  "DELETE /orgs/{org}/actions/runners/{runner_id}",
  "POST /orgs/{org}/actions/runners/generate-jitconfig",
  "POST /orgs/{org}/actions/runners/registration-token",
  "GET /orgs/{org}/actions/runner-groups",
  "GET /repos/{owner}/{repo}/actions/runners",
  "GET /repos/{owner}/{repo}/actions/runners/{runner_id}",
  "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}",
  "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
  "POST /repos/{owner}/{repo}/actions/runners/registration-token",
  "GET /repos/{owner}/{repo}/actions/jobs/{job_id}",
  "GET /app/hook/deliveries",
  "GET /app/hook/deliveries/{delivery_id}",
  "POST /app/hook/deliveries/{delivery_id}/attempts",
  "GET /repos/{owner}/{repo}/releases/latest",
  "GET /repos/{owner}/{repo}/releases/tags/{tag}",
  "GET /rate_limit",
];
const webhooks = ["workflow-job-queued", "workflow-job-in-progress", "workflow-job-completed"];

const get = (ref) => ref.slice(2).split("/").reduce((o, k) => o[k], doc);
const deref = (x) => { while (x && x.$ref) x = get(x.$ref); return x; };
const schemas = {};
// collect copies schema refs reachable from x into schemas, keeping $ref form (small output).
const collect = (x) => {
  if (Array.isArray(x)) return x.forEach(collect);
  if (!x || typeof x !== "object") return;
  if (typeof x.$ref === "string" && x.$ref.startsWith("#/components/schemas/")) {
    const name = x.$ref.split("/").pop();
    if (!(name in schemas)) { schemas[name] = get(x.$ref); collect(schemas[name]); }
    return;
  }
  for (const [k, v] of Object.entries(x)) if (k !== "example" && k !== "examples") collect(v);
};
// strip drops documentation so the file stays small.
const strip = (x) => {
  if (Array.isArray(x)) return x.map(strip);
  if (!x || typeof x !== "object") return x;
  const o = {};
  for (const [k, v] of Object.entries(x)) {
    if (["description", "example", "examples", "title", "summary", "externalDocs"].includes(k) && typeof v !== "object" || k === "examples" || k === "example") continue;
    o[k] = strip(v);
  }
  return o;
};
const jsonSchema = (content) => content && content["application/json"] && content["application/json"].schema;

const result = { source: `@octokit/openapi ${version} generated/api.github.com.json`, operations: {}, webhooks: {}, schemas };
for (const op of operations) {
  const [method, path] = op.split(" ");
  const o = doc.paths[path] && doc.paths[path][method.toLowerCase()];
  if (!o) throw new Error(`operation not in description: ${op}`);
  const entry = { responses: {} };
  const body = o.requestBody && jsonSchema(deref(o.requestBody).content);
  if (body) { entry.request = body; collect(body); }
  for (const [status, r] of Object.entries(o.responses)) {
    const resp = deref(r);
    const s = jsonSchema(resp.content);
    entry.responses[status] = s || null;
    collect(s);
  }
  result.operations[op] = entry;
}
for (const w of webhooks) {
  const s = doc["x-webhooks"][w].post.requestBody.content["application/json"].schema;
  result.webhooks[w] = s;
  collect(s);
}
const sorted = Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, schemas[k]]));
result.schemas = sorted;
fs.writeFileSync(out, JSON.stringify(strip(result), null, 1) + "\n");
console.log(`${out}: ${Object.keys(result.operations).length} operations, ${Object.keys(sorted).length} schemas`);
JS
