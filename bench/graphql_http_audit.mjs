// The graphql-http audit suite (the GraphQL over HTTP spec's) against a running fugong:
//   npm install --prefix /tmp/audit graphql-http@1.23.1 graphql@16.15.0
//   NODE_PATH=/tmp/audit/node_modules node bench/graphql_http_audit.mjs http://127.0.0.1:8000/graphql
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { serverAudits } = require("graphql-http");
const url = process.argv[2] || "http://127.0.0.1:8000/graphql";
const counts = { ok: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  counts[result.status]++;
  if (result.status !== "ok") console.log(result.status, audit.name, "-", result.reason);
}
console.log(`ok ${counts.ok}, warn ${counts.warn}, error ${counts.error}`);
