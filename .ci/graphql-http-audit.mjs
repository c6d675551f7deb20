// Runs the graphql-http server audit (https://github.com/graphql/graphql-http)
// against a running analyticsd and fails on any warning or error (notices,
// the spec's MAYs, are printed but pass).
//
//   node .ci/graphql-http-audit.mjs <url> <token>
//
// The token is sent as a bearer token with every request (the audit uses
// introspection fields, which are for admins).
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node .ci/graphql-http-audit.mjs <url> <admin token>');
  process.exit(2);
}
const results = await auditServer({
  url,
  fetchFn: (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  },
});
let ok = 0;
const bad = [];
for (const r of results) {
  if (r.status === 'ok') ok++;
  else bad.push(r);
}
for (const r of bad) {
  let body = '';
  try {
    body = JSON.stringify(await r.response.clone().json());
  } catch {
    body = r.response ? `(status ${r.response.status})` : '';
  }
  console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason} ${body.slice(0, 300)}`);
}
const warn = bad.filter((r) => r.status === 'warn').length;
const err = bad.filter((r) => r.status === 'error').length;
console.log(`graphql-http audit: ${ok} ok, ${bad.length - warn - err} notices, ${warn} warnings, ${err} errors of ${results.length}`);
process.exit(warn + err === 0 ? 0 : 1);
