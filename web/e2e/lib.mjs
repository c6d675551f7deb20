// Helpers shared by the browser tests (console.mjs, monitors.mjs,
// insights.mjs): the environment, the ok/not ok tally, GraphQL calls and a
// fresh Chromium profile that collects console errors. BASE_URL names the
// server under test.
import { chromium } from 'playwright-core';
import { buildSchema, NoDeprecatedCustomRule, parse, validate } from 'graphql';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The values of the named environment variables; throws naming the missing ones. */
export function requireEnv(...names) {
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length) throw new Error(`set ${missing.join(', ')}`);
  return names.map((n) => process.env[n]);
}

const BASE = requireEnv('BASE_URL')[0];

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** The checks run so far; checks lists each one's name, outcome and time. */
export const tally = { passed: 0, failed: 0, checks: [] };

/** Runs one check and prints "ok - name (N ms)" or "not ok - name: error". */
export async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    tally.passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    tally.checks.push({ name, ok: true, ms: Date.now() - t0 });
  } catch (err) {
    tally.failed++;
    console.log(`not ok - ${name}: ${err.stack || err}`);
    tally.checks.push({ name, ok: false, error: String(err) });
  }
}

/** Prints "N passed, N failed" (the line the Go tests match) and exits 1 on a failure. */
export function finish() {
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed ? 1 : 0);
}

/** The whole GraphQL answer of query as the holder of tok. */
export async function gql(tok, query, variables = {}) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

/** The data of query as the holder of tok; throws on GraphQL errors. */
export async function data(tok, query, variables) {
  const r = await gql(tok, query, variables);
  if (r.errors) throw new Error(`GraphQL: ${JSON.stringify(r.errors)}`);
  return r.data;
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * A fresh browser profile (named after prefix); console errors and page
 * errors of every page are collected, and so is every GraphQL query the
 * pages POST (queries).
 */
export async function browser(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, viewport: { width: 1366, height: 900 }, acceptDownloads: true,
  });
  const errors = [];
  const queries = [];
  const watch = (p) => {
    p.on('request', (r) => {
      if (r.method() !== 'POST' || !r.url().endsWith('/graphql')) return;
      try {
        queries.push(JSON.parse(r.postData() ?? '{}').query);
      } catch { /* not JSON: the server answers it, nothing to check */ }
    });
    p.on('console', (m) => { if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
  };
  ctx.pages().forEach(watch);
  ctx.on('page', watch);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return { ctx, page, errors, queries, close: async () => { await ctx.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Signs page in as the dev admin (tenant demo) and returns its token. */
export async function signInAsDevAdmin(page) {
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: 'Use the dev admin token' }).click();
  await page.waitForSelector('[data-testid=tenant]');
  return page.evaluate(() => localStorage.getItem('analytics.console.token'));
}

/** Signs page in with tok on the sign-in page. */
export async function signInWithToken(page, tok) {
  await page.goto(`${BASE}/#/signin`);
  await page.fill('#token', tok);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForSelector('[data-testid=tenant]');
}

/**
 * The uses of fields and arguments the schema marks @deprecated in queries,
 * one message per use ("The field Query.cohorts is deprecated. use …"),
 * validated against the schema files the server is generated from.
 */
export function deprecatedUses(queries) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const files = [join(root, 'schema.graphqls'), ...readdirSync(join(root, 'schema')).filter((f) => f.endsWith('.graphqls')).map((f) => join(root, 'schema', f))];
  const schema = buildSchema(files.map((f) => readFileSync(f, 'utf8')).join('\n'));
  const out = new Set();
  for (const q of new Set(queries)) {
    for (const e of validate(schema, parse(q), [NoDeprecatedCustomRule])) out.add(`${e.message} (in ${q.replace(/\s+/g, ' ').slice(0, 80)}…)`);
  }
  return [...out];
}
