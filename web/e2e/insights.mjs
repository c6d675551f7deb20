// Browser test of the console's Insights page in Debian's Chromium, driven
// by playwright-core. Run by web/insights_browser_test.go against a real
// analyticsd (embedded engines, seeded demo data). Environment: BASE_URL,
// VIEWER_TOKEN (a viewer of tenant demo), OTHER_TOKEN (an admin of tenant
// acme-corp). Prints "ok - …" / "not ok - …" per check and "N passed, N failed" last.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { BASE_URL: BASE, VIEWER_TOKEN: VIEWER, OTHER_TOKEN: OTHER } = process.env;
if (!BASE || !VIEWER || !OTHER) throw new Error('set BASE_URL, VIEWER_TOKEN and OTHER_TOKEN');
const QUESTION = 'Why did enrolments change in the last 2 weeks?';
const tally = { passed: 0, failed: 0 };

async function step(name, fn) {
  try {
    await fn();
    tally.passed++;
    console.log(`ok - ${name}`);
  } catch (err) {
    tally.failed++;
    console.log(`not ok - ${name}: ${err.stack || err}`);
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function query(tok, q, variables = {}) {
  const res = await fetch(`${BASE}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query: q, variables }) });
  const r = await res.json();
  if (r.errors) throw new Error(`GraphQL: ${JSON.stringify(r.errors)}`);
  return r.data;
}

/** The numbers of a text, in order (thousands separators dropped). */
function numbers(text) {
  return (text.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).map((n) => n.replaceAll(',', ''));
}

const profile = mkdtempSync(join(tmpdir(), 'insights-e2e-'));
const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'], viewport: { width: 1366, height: 900 } });
const consoleErrors = [];
ctx.on('page', (p) => p.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text())));
const page = ctx.pages()[0] ?? (await ctx.newPage());
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
let id = '';

await step('a viewer finds Insights in the navigation and asks a question', async () => {
  await page.goto(`${BASE}/#/signin`);
  await page.fill('#token', VIEWER);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForSelector('[data-testid=tenant]');
  await page.locator('header nav').getByRole('link', { name: 'Insights', exact: true }).click();
  await page.fill('input[name=question]', QUESTION);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await page.waitForURL(/#\/insights\/[0-9a-f-]{36}$/);
  id = page.url().split('/').pop();
});

await step('the steps arrive live and the insight succeeds', async () => {
  await page.waitForSelector('[data-steps] li[data-kind=interpretation]', { timeout: 60_000 });
  await page.waitForSelector('[data-steps] li[data-kind=done]', { timeout: 120_000 });
  await page.waitForSelector('[data-explanation]');
  expect((await page.textContent('[data-status]')) === 'SUCCEEDED', `status ${await page.textContent('[data-status]')}`);
  const kinds = await page.$$eval('[data-steps] li', (lis) => lis.map((li) => li.dataset.kind));
  expect(kinds.includes('tool_call') && kinds.includes('tool_result'), `steps ${kinds}`);
});

const d = id ? await query(VIEWER, `query($id: ID!) { insight(id: $id) { status explanation findings { text evidence } charts { type series evidence }
  evidence { id sql request values } confidence { level score } grounding { status } provenance { engine toolCalls } } }`, { id }) : null;

await step('the numbers on the page equal the GraphQL insight', async () => {
  const i = d.insight;
  expect(i.status === 'SUCCEEDED' && i.grounding.status === 'GROUNDED', `${i.status} ${i.grounding.status}`);
  const shown = numbers(await page.innerText('[data-explanation]'));
  const want = numbers(i.explanation);
  expect(JSON.stringify(shown) === JSON.stringify(want), `page ${shown}\nGraphQL ${want}`);
  expect((await page.textContent('[data-level]')) === i.confidence.level, 'confidence level');
  expect((await page.innerText('[data-confidence]')).includes(i.confidence.score.toFixed(2)), 'confidence score');
  expect((await page.innerText('[data-provenance]')).includes(`${i.provenance.toolCalls} tool calls`), 'provenance');
  expect((await page.$$('[data-findings] li')).length === i.findings.length, 'findings');
});

await step('charts are drawn from the evidence', async () => {
  const charts = d.insight.charts;
  expect(charts.length > 0, 'the answer has a chart');
  for (let n = 0; n < charts.length; n++) {
    const sel = `[data-chart="${n}"]`;
    if (charts[n].type === 'table') await page.waitForSelector(`${sel} table`);
    else await page.waitForSelector(`${sel} canvas`);
  }
});

await step('an evidence link shows its SQL or request and its values', async () => {
  // Evidence the explanation cites, clicked where it is cited.
  const ev = d.insight.evidence.find((e) => (e.values ?? []).length > 0 && d.insight.explanation.includes(e.id));
  expect(ev, 'the explanation cites evidence with values');
  await page.locator(`[data-explanation] [data-evidence="${ev.id}"]`).first().click();
  await page.waitForSelector('[data-evidence-detail]:not([hidden]) [data-values]');
  const detail = await page.innerText('[data-evidence-detail]');
  expect(detail.includes(ev.sql ?? ev.request.slice(0, 40)), 'the SQL or the request is shown');
  const cells = await page.$$eval('[data-evidence-detail] [data-values] tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]));
  expect(JSON.stringify(cells) === JSON.stringify(ev.values.map((v) => [v.name, v.value])), `values: page ${JSON.stringify(cells)}`);
});

await step('rating it useful is stored', async () => {
  await page.getByRole('button', { name: 'Useful', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-rated]')?.textContent?.startsWith('Rated useful'));
});

await step('tenant B cannot see the insight', async () => {
  const r = await query(OTHER, 'query($id: ID!) { insight(id: $id) { id } insights(first: 50) { nodes { id } } }', { id });
  expect(r.insight === null && !r.insights.nodes.some((n) => n.id === id), 'acme-corp sees demo\'s insight');
  await page.evaluate((t) => localStorage.setItem('analytics.console.token', t), OTHER);
  await page.goto(`${BASE}/#/insights/${id}`);
  await page.reload();
  await page.waitForSelector('h1');
  expect((await page.textContent('h1')) === 'Not found', `tenant B's page: ${await page.textContent('h1')}`);
});

await step('no console errors', async () => {
  expect(consoleErrors.length === 0, consoleErrors.join('\n'));
});

await ctx.close();
rmSync(profile, { recursive: true, force: true });
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);
