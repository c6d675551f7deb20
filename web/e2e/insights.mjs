// Browser test of the console's Insights page in Debian's Chromium, driven
// by playwright-core. Run by web/insights_browser_test.go against a real
// analyticsd (embedded engines, seeded demo data). Environment: BASE_URL,
// VIEWER_TOKEN (a viewer of tenant demo), OTHER_TOKEN (an admin of tenant
// acme-corp). Prints "ok - …" / "not ok - …" per check and "N passed, N failed" last.
import { assert, browser, check, data, finish, requireEnv, signInWithToken } from './lib.mjs';

const [BASE, VIEWER, OTHER] = requireEnv('BASE_URL', 'VIEWER_TOKEN', 'OTHER_TOKEN');
const QUESTION = 'Why did enrolments change in the last 2 weeks?';

/** The numbers of a text, in order (thousands separators dropped). */
function numbers(text) {
  return (text.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).map((n) => n.replaceAll(',', ''));
}

const b = await browser('insights-e2e');
const { page, errors: consoleErrors } = b;
let id = '';

await check('a viewer finds Insights in the navigation and asks a question', async () => {
  await signInWithToken(page, VIEWER);
  await page.locator('header nav').getByRole('link', { name: 'Insights', exact: true }).click();
  await page.fill('input[name=question]', QUESTION);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await page.waitForURL(/#\/insights\/[0-9a-f-]{36}$/);
  id = page.url().split('/').pop();
});

await check('the steps arrive live and the insight succeeds', async () => {
  await page.waitForSelector('[data-steps] li[data-kind=interpretation]', { timeout: 60_000 });
  await page.waitForSelector('[data-steps] li[data-kind=done]', { timeout: 120_000 });
  await page.waitForSelector('[data-explanation]');
  assert((await page.textContent('[data-status]')) === 'SUCCEEDED', `status ${await page.textContent('[data-status]')}`);
  const kinds = await page.$$eval('[data-steps] li', (lis) => lis.map((li) => li.dataset.kind));
  assert(kinds.includes('tool_call') && kinds.includes('tool_result'), `steps ${kinds}`);
});

const d = id ? await data(VIEWER, `query($id: ID!) { insight(id: $id) { status explanation findings { text evidence } charts { type series evidence }
  evidence { id sql request values } confidence { level score } grounding { status } provenance { engine toolCalls } } }`, { id }) : null;

await check('the numbers on the page equal the GraphQL insight', async () => {
  const i = d.insight;
  assert(i.status === 'SUCCEEDED' && i.grounding.status === 'GROUNDED', `${i.status} ${i.grounding.status}`);
  const shown = numbers(await page.innerText('[data-explanation]'));
  const want = numbers(i.explanation);
  assert(JSON.stringify(shown) === JSON.stringify(want), `page ${shown}\nGraphQL ${want}`);
  assert((await page.textContent('[data-level]')) === i.confidence.level, 'confidence level');
  assert((await page.innerText('[data-confidence]')).includes(i.confidence.score.toFixed(2)), 'confidence score');
  assert((await page.innerText('[data-provenance]')).includes(`${i.provenance.toolCalls} tool calls`), 'provenance');
  assert((await page.$$('[data-findings] li')).length === i.findings.length, 'findings');
});

await check('charts are drawn from the evidence', async () => {
  const charts = d.insight.charts;
  assert(charts.length > 0, 'the answer has a chart');
  for (let n = 0; n < charts.length; n++) {
    const sel = `[data-chart="${n}"]`;
    if (charts[n].type === 'table') await page.waitForSelector(`${sel} table`);
    else await page.waitForSelector(`${sel} canvas`);
  }
});

await check('an evidence link shows its SQL or request and its values', async () => {
  // Evidence the explanation cites, clicked where it is cited.
  const ev = d.insight.evidence.find((e) => (e.values ?? []).length > 0 && d.insight.explanation.includes(e.id));
  assert(ev, 'the explanation cites evidence with values');
  await page.locator(`[data-explanation] [data-evidence="${ev.id}"]`).first().click();
  await page.waitForSelector('[data-evidence-detail]:not([hidden]) [data-values]');
  const detail = await page.innerText('[data-evidence-detail]');
  assert(detail.includes(ev.sql ?? ev.request.slice(0, 40)), 'the SQL or the request is shown');
  const cells = await page.$$eval('[data-evidence-detail] [data-values] tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]));
  assert(JSON.stringify(cells) === JSON.stringify(ev.values.map((v) => [v.name, v.value])), `values: page ${JSON.stringify(cells)}`);
});

await check('rating it useful is stored', async () => {
  await page.getByRole('button', { name: 'Useful', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-rated]')?.textContent?.startsWith('Rated useful'));
});

await check('tenant B cannot see the insight', async () => {
  const r = await data(OTHER, 'query($id: ID!) { insight(id: $id) { id } insights(first: 50) { nodes { id } } }', { id });
  assert(r.insight === null && !r.insights.nodes.some((n) => n.id === id), 'acme-corp sees demo\'s insight');
  await page.evaluate((t) => localStorage.setItem('analytics.console.token', t), OTHER);
  await page.goto(`${BASE}/#/insights/${id}`);
  await page.reload();
  await page.waitForSelector('h1');
  assert((await page.textContent('h1')) === 'Not found', `tenant B's page: ${await page.textContent('h1')}`);
});

await check('no console errors', async () => {
  assert(consoleErrors.length === 0, consoleErrors.join('\n'));
});

await b.close();
finish();
