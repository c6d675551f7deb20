// Browser test of the console's Insights page in Debian's Chromium, driven
// by playwright-core. Run by web/insights_browser_test.go against a real
// analyticsd (embedded engines, seeded demo data). Environment: BASE_URL,
// VIEWER_TOKEN (a viewer of tenant demo), OTHER_TOKEN (an admin of tenant
// acme-corp), ADMIN_TOKEN (an admin of tenant demo, who pins a chart). Prints "ok - …" / "not ok - …" per check and "N passed, N failed" last.
import { assert, browser, check, data, finish, gql, requireEnv, signInWithToken } from './lib.mjs';

const [BASE, VIEWER, OTHER, ADMIN] = requireEnv('BASE_URL', 'VIEWER_TOKEN', 'OTHER_TOKEN', 'ADMIN_TOKEN');
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
  // The question box is a full-width textarea: Shift+Enter is a new line, Enter asks.
  const box = page.locator('textarea[name=question]');
  const width = await box.evaluate((el) => el.getBoundingClientRect().width / el.closest('form').getBoundingClientRect().width);
  assert(width > 0.9, `the question box is ${Math.round(width * 100)} % of the form`);
  await box.fill('Why did enrolments change');
  await box.press('Shift+Enter');
  assert((await box.inputValue()) === 'Why did enrolments change\n', 'Shift+Enter adds a new line');
  await box.fill(QUESTION);
  await box.press('Enter');
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

await check('steps render Markdown (no raw ** or backticks), and HTML stays text', async () => {
  const steps = await page.innerText('[data-steps]');
  assert(!steps.includes('**') && !steps.includes('`'), `raw Markdown in the steps: ${steps}`);
  assert((await page.$$('[data-steps] script, [data-steps] img')).length === 0, 'HTML in a step became markup');
});

await check('each line of a step starts its own line, and its evidence ids link to the evidence', async () => {
  const r = await data(VIEWER, 'query($id: ID!) { insight(id: $id) { steps { kind message } evidence { id sql request } } }', { id });
  const k = r.insight.steps.findIndex((st) => st.kind === 'text');
  assert(k >= 0, `no text step: ${r.insight.steps.map((st) => st.kind)}`);
  const li = page.locator('[data-steps] li').nth(k);
  // Paragraphs (lines not in a list) of the step, each on a line of its own.
  const paras = r.insight.steps[k].message.split('\n').filter((l) => l.trim() && !l.startsWith('- '));
  assert(paras.length >= 2, `the text step has one paragraph: ${r.insight.steps[k].message}`);
  // A paragraph run on after the previous one (the bug) starts above the previous one's bottom.
  const boxes = await li.locator('.step-text > p').evaluateAll((ps) => ps.map((p) => { const r = p.getBoundingClientRect(); return [r.top, r.bottom]; }));
  assert(boxes.length === paras.length, `${boxes.length} paragraphs drawn for ${paras.length}`);
  for (let j = 1; j < boxes.length; j++) assert(boxes[j][0] >= boxes[j - 1][1], `paragraph ${j + 1} runs on after paragraph ${j}: ${JSON.stringify(boxes)}`);
  // Every [E…] reference is a link; following one opens that evidence.
  const cited = [...r.insight.steps[k].message.matchAll(/\[(E\d+(?:,\s*E\d+)*)\]/g)].flatMap((m) => m[1].split(/,\s*/));
  const links = await li.locator('a[data-evidence]').evaluateAll((as) => as.map((a) => a.dataset.evidence));
  assert(cited.length > 0 && JSON.stringify(links) === JSON.stringify(cited), `links ${links}, cited ${cited}`);
  const ev = r.insight.evidence.find((e) => e.id === cited.at(-1));
  await li.locator(`a[data-evidence="${ev.id}"]`).first().click();
  await page.waitForSelector('[data-evidence-detail]:not([hidden])');
  const detail = await page.innerText('[data-evidence-detail]');
  assert(detail.startsWith(`${ev.id} ·`) && detail.includes(ev.sql ?? ev.request.slice(0, 40)), `detail after clicking ${ev.id}: ${detail.slice(0, 120)}`);
  assert(await page.locator('[data-evidence-detail]').isVisible(), 'the evidence detail is not visible');
});

let pinned = null;
await check('an admin pins a chart to a dashboard and sees it drawn there with the same numbers as GraphQL', async () => {
  const charts = d.insight.charts;
  const n = charts.findIndex((c) => c.type === 'bar' || c.type === 'line');
  assert(n >= 0, 'the answer has a bar or line chart');
  await signInWithToken(page, ADMIN);
  await page.goto(`${BASE}/#/insights/${id}`);
  const pin = page.locator(`[data-pin="${n}"]`);
  await pin.locator('select[name=dashboard] option[data-slug=learner-progress]').waitFor({ state: 'attached' });
  await pin.locator('select[name=dashboard]').selectOption({ label: await pin.locator('option[data-slug=learner-progress]').textContent() });
  await pin.locator('input[name=title]').fill('Pinned insight chart');
  await pin.getByRole('button', { name: 'Pin to dashboard' }).click();
  await pin.locator('[data-pinned] a').waitFor();
  await pin.locator('[data-pinned] a').click();
  await page.waitForURL(/#\/dashboards\/learner-progress$/);
  const r = await data(ADMIN, `{ dashboard(idOrSlug: "learner-progress") { widgets { id title kind insight { insightId chart } }
    render { widgets { widgetId insight { insightId question confidenceLevel chart { type series } } } } } }`);
  const w = r.dashboard.widgets.find((x) => x.kind === 'INSIGHT' && x.title === 'Pinned insight chart');
  assert(w && w.insight.insightId === id && w.insight.chart === n, `widget ${JSON.stringify(w)}`);
  const wd = r.dashboard.render.widgets.find((x) => x.widgetId === w.id).insight;
  assert(JSON.stringify(wd.chart.series.map((s) => s.y)) === JSON.stringify(charts[n].series.map((s) => s.y)), 'render differs from the insight');
  const sel = `[data-widget="${w.id}"] .chart`;
  await page.waitForFunction((s) => document.querySelector(s)?.__chart?.getOption().series.length > 0, sel, { timeout: 30_000 });
  const drawn = await page.$eval(sel, (el) => el.__chart.getOption().series.map((s) => s.data.map((v) => (Array.isArray(v) ? v[1] : v))));
  assert(JSON.stringify(drawn) === JSON.stringify(wd.chart.series.map((s) => s.y)), `drawn ${JSON.stringify(drawn)} != GraphQL ${JSON.stringify(wd.chart.series.map((s) => s.y))}`);
  const caption = await page.innerText(`[data-widget="${w.id}"] [data-insight-caption]`);
  assert(caption.includes(wd.question) && caption.includes(`confidence ${wd.confidenceLevel}`) && caption.includes('as of'), `caption ${caption}`);
  pinned = w;
});

await check('tenant B cannot pin the insight', async () => {
  const dash = await data(OTHER, '{ dashboard(idOrSlug: "learner-progress") { id } }');
  const body = await gql(OTHER, 'mutation($i: ID!, $d: ID!) { pinInsightChart(insightId: $i, dashboardId: $d) { id } }', { i: id, d: dash.dashboard.id });
  const e = body.errors?.[0];
  assert(e && e.extensions?.code === 'BAD_USER_INPUT' && e.message.includes('not found'), `tenant B pinned: ${JSON.stringify(body)}`);
  assert(!JSON.stringify(body).includes(d.insight.explanation.slice(0, 20)), 'an error leaks the answer');
  assert(pinned, 'the pin check ran');
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
