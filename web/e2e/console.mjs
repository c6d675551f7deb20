// Browser tests of the console in Debian's Chromium, driven by playwright-core.
// Run by web/browser_test.go against a real analyticsd (embedded engines,
// seeded demo data). Inputs (environment):
//   BASE_URL        the server, e.g. http://127.0.0.1:43210
//   VIEWER_TOKEN    a viewer of tenant demo
//   OTHER_TOKEN     an admin of tenant acme-corp (tenant B)
//   RESULTS_FILE    where to write the measurements (JSON)
//   SCREENSHOT_DIR  optional: save screenshots of the main pages there
// The admin of tenant demo signs in with the dev token the sign-in page offers.
// Prints "ok - …" / "not ok - …" per check and "N passed, N failed" last.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, browser, check, data, deprecatedUses, finish, gql, requireEnv, signInWithToken, tally } from './lib.mjs';

const [BASE, VIEWER, OTHER] = requireEnv('BASE_URL', 'VIEWER_TOKEN', 'OTHER_TOKEN');
const SHOTS = process.env.SCREENSHOT_DIR || '';

const PAGES = ['/dashboards', '/dashboards/learner-progress', '/explore', '/journeys', '/journeys?tab=retention', '/journeys?tab=paths',
  '/cohorts', '/monitors', '/reports', '/insights', '/sql', '/exports', '/privacy'];
const ADMIN_NAV = ['Dashboards', 'Explorer', 'Journeys', 'Cohorts', 'Monitors', 'Reports', 'Insights', 'SQL', 'Exports', 'Privacy'];
const results = { checks: tally.checks };

/** 1 on a machine with no more runnable work than cores; the ratio above that. */
function loadFactor() {
  return Math.max(1, os.loadavg()[0] / os.cpus().length);
}

async function visibleText(page) {
  return page.evaluate(() => document.body.innerText);
}

const admin = await browser('console-e2e');
const page = admin.page;
let adminToken = '';

await check('sign in with the dev admin token offered to a loopback client', async () => {
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: 'Use the dev admin token' }).click();
  await page.waitForSelector('[data-testid=tenant]');
  assert((await page.textContent('[data-testid=tenant]')) === 'demo', 'tenant shown is not demo');
  assert((await page.textContent('[data-testid=role]')) === 'ADMIN', 'role shown is not ADMIN');
  adminToken = await page.evaluate(() => localStorage.getItem('analytics.console.token'));
  assert(adminToken && adminToken.split('.').length === 3, 'no token stored');
  for (const nav of ADMIN_NAV) {
    assert(await page.locator('header nav').getByRole('link', { name: nav, exact: true }).isVisible(), `admin misses ${nav}`);
  }
});

await check('learner-progress KPI tiles and table equal the GraphQL render', async () => {
  await page.goto(`${BASE}/#/dashboards/learner-progress`);
  await page.waitForSelector('.kpi-value');
  const d = await data(adminToken, `{ dashboard(idOrSlug: "learner-progress") { widgets { id kind }
    render { widgets { widgetId results { metric { key } totals { value } series { values total { value } } } } } } }`);
  const kinds = Object.fromEntries(d.dashboard.widgets.map((w) => [w.id, w.kind]));
  let kpis = 0;
  for (const w of d.dashboard.render.widgets) {
    if (kinds[w.widgetId] === 'KPI') {
      for (const r of w.results) {
        const shown = await page.getAttribute(`[data-widget="${w.widgetId}"] .kpi-value[data-metric="${r.metric.key}"]`, 'data-value');
        assert(Number(shown) === r.totals.value, `KPI ${r.metric.key}: page ${shown}, GraphQL ${r.totals.value}`);
        kpis++;
      }
    }
    if (kinds[w.widgetId] === 'TABLE') {
      const cells = await page.$$eval(`[data-widget="${w.widgetId}"] tbody tr`, (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.querySelector('[data-value]').dataset.value)]));
      const want = w.results[0].series.map((s) => [s.values[0], s.total.value]);
      assert(JSON.stringify(cells) === JSON.stringify(want), `table: page ${JSON.stringify(cells)}, GraphQL ${JSON.stringify(want)}`);
    }
  }
  assert(kpis >= 2, `expected at least 2 KPI values, saw ${kpis}`);
  const charts = await page.$$eval('.widget .chart canvas', (c) => c.length);
  assert(charts >= 4, `expected the line, bar and area charts drawn, saw ${charts} canvases`);
});

await check('line and area charts keep every date label inside, and draw today so far apart with its value', async () => {
  await page.goto(`${BASE}/#/dashboards/learner-progress`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-kind=LINE] .chart, [data-kind=AREA] .chart')]
    .every((el) => el.__chart?.getOption().series.length > 0), null, { timeout: 30_000 });
  const d = await data(adminToken, `{ dashboard(idOrSlug: "learner-progress") { widgets { id kind }
    render { widgets { widgetId computedAt results { grain series { points { bucket value } } } } } } }`);
  const kinds = Object.fromEntries(d.dashboard.widgets.map((w) => [w.id, w.kind]));
  let open = 0;
  for (const w of d.dashboard.render.widgets.filter((x) => ['LINE', 'AREA'].includes(kinds[x.widgetId]))) {
    const drawn = await page.$eval(`[data-widget="${w.widgetId}"] .chart`, (el) => {
      const c = el.__chart;
      const labels = [];
      for (const t of c.getZr().storage.getDisplayList(true)) {
        if (!/^\d{4}-\d\d/.test(t.style?.text ?? '')) continue;
        const r = t.getBoundingRect().clone();
        const m = t.getComputedTransform();
        if (m) r.applyTransform(m);
        labels.push({ text: t.style.text, left: Math.round(r.x), right: Math.round(r.x + r.width) });
      }
      const o = c.getOption();
      return { width: c.getWidth(), labels, open: el.dataset.openBucket, legend: o.legend?.[0]?.data ?? [],
        series: o.series.map((s) => ({ name: s.name, dashed: s.lineStyle?.type === 'dashed', data: s.data.map((v) => (v !== null && typeof v === 'object' ? v.value : v)) })) };
    });
    assert(drawn.labels.length > 1, `widget ${w.widgetId}: no date labels drawn`);
    for (const l of drawn.labels) assert(l.left >= 0 && l.right <= drawn.width, `widget ${w.widgetId}: label ${l.text} at ${l.left}..${l.right} px, the chart is 0..${drawn.width}`);
    const want = w.results.flatMap((r) => r.series.map((s) => s.points));
    const last = want[0].at(-1);
    if (w.results[0].grain !== 'DAY' || new Date(last.bucket).getTime() + 86_400_000 <= new Date(w.computedAt).getTime()) continue;
    open++;
    assert(new Date(drawn.open).getTime() === new Date(last.bucket).getTime(), `widget ${w.widgetId}: open bucket ${drawn.open}, today is ${last.bucket}`);
    assert(drawn.legend.includes('today so far'), `widget ${w.widgetId}: legend ${drawn.legend}`);
    const segs = drawn.series.filter((s) => s.name === 'today so far');
    // Each open segment is drawn right after the series it continues.
    const mains = drawn.series.filter((s, k) => s.name !== 'today so far' && drawn.series[k + 1]?.name === 'today so far');
    assert(segs.length === want.length, `widget ${w.widgetId}: ${segs.length} open segments for ${want.length} series`);
    want.forEach((pts, j) => {
      const n = pts.length;
      assert(segs[j].dashed && segs[j].data[n - 1] === pts[n - 1].value && segs[j].data[n - 2] === pts[n - 2].value,
        `widget ${w.widgetId} series ${j}: open segment ${JSON.stringify(segs[j].data.slice(-2))}, GraphQL ${pts[n - 2].value}, ${pts[n - 1].value}`);
      assert(mains[j].data[n - 1] === null && JSON.stringify(mains[j].data.slice(0, -1)) === JSON.stringify(pts.slice(0, -1).map((p) => p.value)),
        `widget ${w.widgetId} series ${j}: closed part ${JSON.stringify(mains[j].data)}`);
    });
  }
  assert(open >= 2, `expected the day-grain charts to end in today's open bucket, saw ${open}`);
});

await check('a live widget changes within 2 s after POST /v1/events', async () => {
  await page.goto(`${BASE}/#/dashboards/learner-progress`);
  await page.waitForSelector('[data-testid=live-state][data-state=live]', { timeout: 10_000 });
  const sel = '.kpi-value[data-metric="active_learners_dau"]';
  await page.waitForSelector(sel);
  const before = Number(await page.getAttribute(sel, 'data-value'));
  // The event happens now: a live render's window ends at the push (rounded
  // up to the second, dashboards.liveAlign), not at the start of the minute
  // as a cached render's does, so it is in the window without back-dating.
  const now = new Date().toISOString();
  const user = `e2e-live-${Date.now()}`;
  const t0 = Date.now();
  const res = await fetch(`${BASE}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify([{ id: `${user}-1`, type: 'lesson.completed', user_id: user, occurred_at: now, properties: { course_id: 'demo-course-01', lesson_id: 'l1' } }]),
  });
  assert(res.status === 200, `POST /v1/events answered ${res.status}: ${await res.text()}`);
  const answered = Date.now();
  // 2 s on a quiet machine; on one busy with other work the bound grows
  // with the load (as the first-paint bound does), and the time is reported.
  const bound = 2000 * loadFactor();
  try {
    await page.waitForFunction(([s, b]) => Number(document.querySelector(s)?.dataset.value) !== b, [sel, before], { timeout: bound, polling: 20 });
  } catch (err) {
    // Say how late it was (or that it never came) before failing.
    const late = await page.waitForFunction(([s, b]) => Number(document.querySelector(s)?.dataset.value) !== b, [sel, before], { timeout: 15_000, polling: 50 })
      .then(() => `it changed ${Date.now() - answered} ms after the answer`, () => 'it did not change within 15 s');
    throw new Error(`no change within ${Math.round(bound)} ms of the POST's answer (${res.status}); ${late}; updates pushed: ${await page.getAttribute('.dashboard', 'data-updates')}`);
  }
  const ms = Date.now() - t0;
  const after = Number(await page.getAttribute(sel, 'data-value'));
  assert(after === before + 1, `active learners went ${before} -> ${after}, expected +1`);
  results.liveUpdateMs = ms;
  results.liveAfterAnswerMs = Date.now() - answered;
  console.log(`# live widget updated ${ms} ms after sending POST /v1/events (${results.liveAfterAnswerMs} ms after its answer)`);
});

await check('explorer chart and table match metricQuery', async () => {
  const q = { key: 'enrolments', last: '90d', grain: 'WEEK', dims: 'properties.course_id', limit: 3 };
  await page.goto(`${BASE}/#/explore?metric=${q.key}&last=${q.last}&grain=${q.grain}&dims=${q.dims}&limit=${q.limit}`);
  await page.waitForSelector('.explorer-chart[data-ready]');
  // The open week is drawn apart ("this week so far"): put its value back on the series it continues.
  const plotted = await page.$eval('.explorer-chart', (el) => el.__chart.getOption().series.reduce((out, s) => {
    const data = s.data.map((v) => (v !== null && typeof v === 'object' ? v.value : v));
    if (s.name.endsWith(' so far')) out[out.length - 1].data[data.length - 1] = data[data.length - 1];
    else out.push({ name: s.name, data });
    return out;
  }, []));
  const d = await data(adminToken, `query($k: String!, $r: TimeRange!, $g: Grain, $d: [String!], $l: Int) {
    metricQuery(key: $k, timeRange: $r, grain: $g, dimensions: $d, limit: $l) { series { values points { value } } } }`,
  { k: q.key, r: { last: q.last }, g: q.grain, d: [q.dims], l: q.limit });
  const want = d.metricQuery.series.map((s) => ({ name: s.values.join(' · '), data: s.points.map((p) => p.value) }));
  assert(want.length === 4 || want.length === 3, `expected top 3 (+other), GraphQL gave ${want.length} series`);
  assert(JSON.stringify(plotted) === JSON.stringify(want), `chart ${JSON.stringify(plotted)} != metricQuery ${JSON.stringify(want)}`);
  const rows = await page.$$eval('.explorer-table tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert(JSON.stringify(rows) === JSON.stringify(want.map((w) => w.name)), `table rows ${rows}`);
});

await check('an export runs with a moving progress bar and downloads', async () => {
  // ~400 000 rows, so the export runs for seconds and reports progress
  // (stored every 10 000 rows, at most once a second) along the way.
  const n = (await data(adminToken, '{ eventsQuery(sql: "SELECT count() FROM events") { rows } }')).eventsQuery.rows[0][0];
  const k = Math.max(1, Math.ceil(400_000 / n));
  const sql = `SELECT a.event_id, a.type, a.user_id, a.occurred_at, b.type AS other_type\nFROM events AS a\nCROSS JOIN (SELECT type FROM events LIMIT ${k}) AS b`;
  await page.goto(`${BASE}/#/exports`);
  await page.selectOption('select[name=source]', 'sql');
  await page.fill('textarea[name=sql]', sql);
  await page.selectOption('select[name=format]', 'XLSX');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  const bar = page.locator('.export-progress').first();
  await bar.waitFor();
  await page.waitForSelector('.export-progress[data-status=SUCCEEDED]', { timeout: 120_000 });
  const values = (await bar.getAttribute('data-values')).split(',').map(Number);
  results.exportProgress = values;
  console.log(`# progress bar values: ${values.join(' ')}`);
  assert(values[values.length - 1] === 100, 'bar did not reach 100');
  const between = values.filter((v) => v > 2 && v < 100);
  assert(between.length >= 1, `the bar never showed a value between start and end: ${values}`);
  assert(values.every((v, i) => i === 0 || v >= values[i - 1]), `the bar went backwards: ${values}`);
  const [download] = await Promise.all([page.waitForEvent('download'), bar.getByTestId('download').click()]);
  const file = join(mkdtempSync(join(tmpdir(), 'dl-')), download.suggestedFilename());
  await download.saveAs(file);
  const bytes = readFileSync(file);
  assert(bytes.length > 1000, `downloaded ${bytes.length} bytes`);
  assert(bytes.subarray(0, 2).toString() === 'PK', 'the download is not an XLSX (zip) file');
});

await check('an ad-hoc SQL error shows line:column', async () => {
  const sql = 'SELECT type,\n  count( AS n\nFROM events\nGROUP BY type';
  await page.goto(`${BASE}/#/sql`);
  await page.fill('textarea[name=sql]', sql);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const where = await page.textContent('[data-testid=sql-error-position]', { timeout: 10_000 });
  const r = await gql(adminToken, 'query($s: String!) { eventsQuery(sql: $s) { elapsedMs } }', { s: sql });
  const e = r.errors[0].extensions;
  assert(where.startsWith(`line ${e.line}, column ${e.column}`), `page shows "${where}", API says line ${e.line} column ${e.column}`);
  assert(e.line === 2, `expected the error on line 2, API says ${e.line}`);
  assert((await page.textContent('[data-testid=caret]')).startsWith(`line ${e.line}, column ${e.column}`), 'the caret was not put at the error');
  await page.fill('textarea[name=sql]', 'SELECT type, count() AS n FROM events GROUP BY type ORDER BY n DESC');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForSelector('.sql-result tbody tr');
  assert((await page.$$eval('.sql-result thead th', (th) => th.map((x) => x.firstChild.textContent))).join() === 'type,n', 'result columns');
});

await check('dashboard cohort filter: KPI values equal metricQuery over the cohort', async () => {
  const c = await data(adminToken, 'mutation($in: CohortInput!) { createCohort(input: $in) { id } }',
    { in: { name: 'E2E engaged learners', criteria: { performed: { type: 'lesson.completed', count: 3, op: 'gte', within: '30d' } } } });
  const id = c.createCohort.id;
  await data(adminToken, 'mutation($id: ID!) { evaluateCohort(id: $id) { size } }', { id });
  await page.goto(`${BASE}/#/dashboards/learner-progress`);
  await page.waitForSelector('.kpi-value');
  await page.waitForSelector(`select[name=cohort] option[value="${id}"]`, { state: 'attached' });
  await page.selectOption('select[name=cohort]', id);
  await page.waitForSelector(`.dashboard[data-cohort="${id}"]`, { timeout: 30_000 });
  assert(page.url().includes(`cohort=${id}`), `the cohort is not kept in the address: ${page.url()}`);
  assert((await page.textContent('[data-testid=cohort-note]')).includes('E2E engaged learners'), 'no note names the cohort');
  const dash = await page.$eval('.dashboard', (el) => ({ from: el.dataset.from, to: el.dataset.to }));
  const d = await data(adminToken, `{ dashboard(idOrSlug: "learner-progress") { timezone widgets { id kind metricKeys } } }`);
  let compared = 0;
  for (const w of d.dashboard.widgets.filter((x) => x.kind === 'KPI')) {
    for (const key of w.metricKeys) {
      const m = await data(adminToken, `query($k: String!, $r: TimeRange!, $tz: String, $c: [CohortFilterInput!]) {
        metricQuery(key: $k, timeRange: $r, grain: NONE, timezone: $tz, cohorts: $c) { totals { value } } }`,
      { k: key, r: { from: dash.from, to: dash.to }, tz: d.dashboard.timezone, c: [{ id }] });
      const shown = Number(await page.getAttribute(`[data-widget="${w.id}"] .kpi-value[data-metric="${key}"]`, 'data-value'));
      assert(shown === m.metricQuery.totals.value, `KPI ${key} over the cohort: page ${shown}, metricQuery ${m.metricQuery.totals.value}`);
      compared++;
    }
  }
  assert(compared >= 2, `compared ${compared} KPI values`);
  await page.selectOption('select[name=cohort]', '');
  await page.waitForFunction(() => !location.hash.includes('cohort='));
});

await check('an admin edits a widget and reorders widgets by keyboard and by drag and drop (saved through GraphQL)', async () => {
  const slug = `e2e-edit-${Date.now()}`;
  const kpi = (title, key) => ({ title, kind: 'KPI', metricKeys: [key], position: { x: 0, y: 0, w: 4, h: 2 } });
  await data(adminToken, 'mutation($in: DashboardInput!, $w: [WidgetInput!]) { createDashboard(input: $in, widgets: $w) { id } }',
    { in: { slug, title: 'E2E widget editing' }, w: [kpi('First', 'enrolments'), kpi('Second', 'course_completions'), kpi('Third', 'active_learners_dau')] });
  const order = async () => (await data(adminToken, 'query($s: String!) { dashboard(idOrSlug: $s) { widgets { id title kind position { w h } } } }', { s: slug })).dashboard.widgets;
  const [a, b, c] = (await order()).map((w) => w.id);
  await page.goto(`${BASE}/#/dashboards/${slug}`);
  await page.waitForSelector('.kpi-value');
  await page.getByRole('button', { name: 'Edit widgets' }).click();

  await page.getByRole('button', { name: 'Edit First', exact: true }).click();
  assert(await page.getByRole('heading', { name: 'Edit widget: First' }).isVisible(), 'the edit form did not open');
  assert((await page.inputValue('[data-testid=widget-form] input[name=metric]')) === 'enrolments', 'the form is not filled with the widget');
  await page.fill('[data-testid=widget-form] input[name=title]', 'Enrolments (renamed)');
  await page.selectOption('[data-testid=widget-form] select[name=kind]', 'TABLE');
  await page.getByRole('button', { name: 'Save widget' }).click();
  await page.waitForFunction((id) => document.querySelector(`[data-widget="${id}"] h2`)?.textContent === 'Enrolments (renamed)', a);
  const edited = (await order()).find((w) => w.id === a);
  assert(edited.title === 'Enrolments (renamed)' && edited.kind === 'TABLE', `GraphQL has ${JSON.stringify(edited)}`);
  assert(edited.position.w === 4 && edited.position.h === 2, `the edit lost the position: ${JSON.stringify(edited.position)}`);

  // Keyboard: focus "Move down" on the first widget and press Enter.
  await page.getByRole('button', { name: 'Move down Enrolments (renamed)' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.querySelector('.widget')?.dataset.widget === id, b);
  let ids = (await order()).map((w) => w.id);
  assert(JSON.stringify(ids) === JSON.stringify([b, a, c]), `after Move down GraphQL has ${ids}`);

  // Drag and drop: the third widget onto the first place.
  if (!(await page.locator('.dashboard.editing').count())) await page.getByRole('button', { name: 'Edit widgets' }).click();
  await page.dragAndDrop(`[data-widget="${c}"]`, `[data-widget="${b}"]`);
  await page.waitForFunction((id) => document.querySelector('.widget')?.dataset.widget === id, c, { timeout: 10_000 });
  ids = (await order()).map((w) => w.id);
  assert(JSON.stringify(ids) === JSON.stringify([c, b, a]), `after drag and drop GraphQL has ${ids}`);
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});

await check('journeys: funnel bars, retention heat-map and paths Sankey equal the GraphQL answers', async () => {
  await page.goto(`${BASE}/#/journeys`);
  await page.waitForSelector('.funnel-chart[data-ready]', { timeout: 30_000 });
  const steps = await page.$$eval('input[name=step]', (els) => els.map((e) => ({ eventType: e.value })));
  const funnel = { steps, conversionWindow: '30d', order: 'ORDERED', timeRange: { last: '90d' } };
  const f = await data(adminToken, 'query($in: FunnelInput!) { funnelQuery(input: $in) { steps { entered dropOff } } }', { in: funnel });
  const bars = await page.$eval('.funnel-chart', (el) => el.__chart.getOption().series.map((s) => s.data));
  assert(JSON.stringify(bars) === JSON.stringify([f.funnelQuery.steps.map((s) => s.entered), f.funnelQuery.steps.map((s) => s.dropOff)]),
    `funnel bars ${JSON.stringify(bars)} != funnelQuery ${JSON.stringify(f.funnelQuery.steps)}`);
  assert(f.funnelQuery.steps[0].entered > 0, 'the funnel is empty');

  // Breakdown by course: one table row per value.
  await page.fill('input[name=breakdown]', 'course_id');
  await page.getByRole('button', { name: 'Run funnel' }).click();
  await page.waitForSelector('.breakdown-table tbody tr');
  const fb = await data(adminToken, 'query($in: FunnelInput!) { funnelQuery(input: $in) { breakdowns { value } } }',
    { in: { ...funnel, breakdown: { property: 'course_id', topN: 5 } } });
  const rows = await page.$$eval('.breakdown-table tbody tr', (trs) => trs.map((tr) => tr.dataset.breakdown));
  assert(JSON.stringify(rows) === JSON.stringify(fb.funnelQuery.breakdowns.map((x) => x.value)), `breakdown rows ${rows}`);
  // Bad input: the API's message, naming the field, is shown.
  await page.fill('input[name=window]', 'soon');
  await page.getByRole('button', { name: 'Run funnel' }).click();
  const err = await page.locator('#panel-funnel .error').textContent({ timeout: 10_000 });
  assert(err.includes('BAD_USER_INPUT') && err.includes('conversionWindow'), `error shown: ${err}`);

  // Retention, reached with the arrow key from the Funnel tab.
  await page.getByRole('tab', { name: 'Funnel' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('.retention-chart[data-ready]', { timeout: 30_000 });
  assert(page.url().includes('tab=retention'), 'the tab is not in the address');
  const r = await data(adminToken, `query($in: RetentionInput!) { retentionQuery(input: $in) { cohorts { size cells { offset users } } } }`,
    { in: { startEvent: { eventType: 'course.enrolled' }, returnEvent: { eventType: 'lesson.completed' }, period: 'WEEK', periods: 8, mode: 'FIRST_TIME', timeRange: { last: '90d' } } });
  const cells = await page.$eval('.retention-chart', (el) => el.__chart.getOption().series[0].data);
  const want = r.retentionQuery.cohorts.filter((x) => x.size > 0).flatMap((x, i) => x.cells.map((cell) => [cell.offset, i + 1, cell.users]));
  const got = cells.filter((v) => v[1] > 0).map((v) => [v[0], v[1], v[3]]);
  assert(want.length > 5 && JSON.stringify(got) === JSON.stringify(want), `heat-map cells ${JSON.stringify(got).slice(0, 300)} != retentionQuery ${JSON.stringify(want).slice(0, 300)}`);
  assert(cells.filter((v) => v[1] === 0).length > 0, 'no mean row');

  await page.getByRole('tab', { name: 'Paths' }).click();
  await page.waitForSelector('.paths-chart[data-ready]', { timeout: 30_000 });
  const p = await data(adminToken, `query($in: PathsInput!) { pathsQuery(input: $in) { edges { step from to users } } }`,
    { in: { startEvent: { eventType: 'course.enrolled' }, steps: 5, maxEdges: 40, timeRange: { last: '30d' } } });
  const links = await page.$eval('.paths-chart', (el) => el.__chart.getOption().series[0].links.map((l) => [l.source, l.target, l.value]));
  const wantLinks = p.pathsQuery.edges.map((e) => [`${e.step}. ${e.from}`, `${e.step + 1}. ${e.to}`, e.users]);
  assert(wantLinks.length > 0 && JSON.stringify(links) === JSON.stringify(wantLinks), `Sankey links ${JSON.stringify(links)} != pathsQuery ${JSON.stringify(wantLinks)}`);
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});

await check('learner-journey dashboard: funnel, retention and paths widgets are drawn from the GraphQL render', async () => {
  await page.goto(`${BASE}/#/dashboards/learner-journey`);
  for (const kind of ['FUNNEL', 'RETENTION', 'PATHS']) {
    await page.waitForFunction((k) => document.querySelector(`[data-kind=${k}] .chart`)?.__chart?.getOption().series.length > 0, kind, { timeout: 30_000 });
  }
  const d = await data(adminToken, `{ dashboard(idOrSlug: "learner-journey") { widgets { id kind }
    render { widgets { widgetId funnel { steps { entered dropOff } } paths { edges { users } } } } } }`);
  const fw = d.dashboard.widgets.find((w) => w.kind === 'FUNNEL');
  const fr = d.dashboard.render.widgets.find((w) => w.widgetId === fw.id).funnel;
  const bars = await page.$eval(`[data-widget="${fw.id}"] .chart`, (el) => el.__chart.getOption().series.map((x) => x.data));
  assert(fr.steps[0].entered > 0 && JSON.stringify(bars) === JSON.stringify([fr.steps.map((x) => x.entered), fr.steps.map((x) => x.dropOff)]),
    `dashboard funnel bars ${JSON.stringify(bars)} != render ${JSON.stringify(fr.steps)}`);
  const pw = d.dashboard.widgets.find((w) => w.kind === 'PATHS');
  const pr = d.dashboard.render.widgets.find((w) => w.widgetId === pw.id).paths;
  const links = await page.$eval(`[data-widget="${pw.id}"] .chart`, (el) => el.__chart.getOption().series[0].links.length);
  assert(links === pr.edges.length && links > 0, `dashboard Sankey has ${links} links, the render ${pr.edges.length}`);
});

await check('the main navigation is reachable with the keyboard', async () => {
  await page.goto(`${BASE}/#/dashboards`);
  await page.waitForSelector('main .page');
  await page.evaluate(() => document.activeElement?.blur());
  const reached = new Set();
  for (let i = 0; i < 25 && reached.size < ADMIN_NAV.length; i++) {
    await page.keyboard.press('Tab');
    const t = await page.evaluate(() => (document.activeElement?.closest('header nav') ? document.activeElement.textContent : null));
    if (t) reached.add(t);
  }
  const missing = ADMIN_NAV.filter((n) => !reached.has(n));
  assert(missing.length === 0, `not reached with Tab: ${missing}`);
  await page.locator('header nav').getByRole('link', { name: 'Journeys' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.funnel-chart[data-ready]', { timeout: 30_000 });
  assert(page.url().endsWith('#/journeys?tab=funnel'), `Enter on Journeys went to ${page.url()}`);
});

await check('tablet width (820 px): no page scrolls sideways and every nav link is on screen', async () => {
  await page.setViewportSize({ width: 820, height: 1180 });
  try {
    for (const p of PAGES) {
      await page.goto(`${BASE}/#${p}`);
      await page.waitForSelector('main .page, main section', { timeout: 10_000 });
      await page.waitForLoadState('networkidle');
      const m = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
        wide: [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-wrap'))
          .slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
        offscreen: [...document.querySelectorAll('header nav a')].filter((a) => { const r = a.getBoundingClientRect(); return r.right > window.innerWidth || r.left < 0 || r.width === 0; }).map((a) => a.textContent),
      }));
      assert(m.scroll <= m.width, `${p} is ${m.scroll} px wide at ${m.width} px: ${m.wide.join(', ')}`);
      assert(m.offscreen.length === 0, `${p}: nav links off screen: ${m.offscreen}`);
    }
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
});

await check('no console errors on any page (admin)', async () => {
  for (const p of PAGES) {
    await page.goto(`${BASE}/#${p}`);
    await page.waitForSelector('main .page, main section', { timeout: 10_000 });
    await page.waitForLoadState('networkidle');
  }
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});

await check('GraphiQL is self-hosted, pre-filled in dev mode and runs a query', async () => {
  const p = await admin.ctx.newPage();
  try {
    await p.goto(`${BASE}/playground`);
    await p.waitForSelector('.graphiql-container', { timeout: 60_000 });
    await p.waitForSelector('.graphiql-execute-button');
    // Run the default query until its answer shows (the editor may still be
    // starting on a busy machine), at most 60 s.
    const deadline = Date.now() + 60_000;
    let shown = '';
    while (Date.now() < deadline && !shown.includes('Learner progress')) {
      await p.click('.graphiql-execute-button');
      // Monaco draws spaces as no-break spaces.
      await p.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').replace(/\u00a0/g, ' ').includes('Learner progress'), null, { timeout: 5000 }).catch(() => undefined);
      shown = ((await p.textContent('.result-window').catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
    }
    assert(shown.includes('Learner progress'), `no result in 60 s; result window: ${shown.slice(0, 300)}`);
    const result = await p.textContent('.result-window');
    assert(result.includes('"demo"') || result.includes('demo'), 'the pre-filled token did not reach tenant demo');
    if (SHOTS) await p.screenshot({ path: join(SHOTS, 'console-graphiql.png') });
    // A subscription runs over graphql-ws (HTTP would refuse it): its first
    // push shows in the result window.
    await p.click('.graphiql-query-editor .monaco-editor');
    await p.keyboard.press('Control+A');
    await p.keyboard.press('Delete');
    await p.keyboard.insertText('subscription { eventTypeCounts(timeRange: {last: "30d"}) { type count } }');
    const text = async () => ((await p.textContent('.result-window').catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
    const deadline2 = Date.now() + 30_000;
    let sub = '';
    while (Date.now() < deadline2 && !(sub.includes('"eventTypeCounts"') && sub.includes('lesson.completed'))) {
      if (!sub.includes('"eventTypeCounts"')) await p.click('.graphiql-execute-button');
      await p.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('eventTypeCounts'), null, { timeout: 5000 }).catch(() => undefined);
      sub = await text();
    }
    assert(sub.includes('"eventTypeCounts"') && sub.includes('lesson.completed'), `no subscription push in 30 s; result window: ${sub.slice(0, 300)}`);
    await p.click('.graphiql-execute-button'); // stops the subscription
  } finally {
    await p.close();
  }
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});

await check('first paint of the cached learner-progress dashboard', async () => {
  // Fresh page loads (same browser profile: the token is stored, assets
  // revalidate by ETag) of the dashboard whose widgets the server has cached.
  // A load whose render crossed into a new minute (a new window, so a new
  // cache key) is not a cached load and is not counted.
  const samples = [];
  const fcps = [];
  const uncached = [];
  for (let i = 0; i < 9 && samples.length < 5; i++) {
    const p = await admin.ctx.newPage();
    await p.goto(`${BASE}/#/dashboards/learner-progress`);
    await p.waitForFunction(() => performance.getEntriesByName('dashboard-painted').length > 0, null, { timeout: 10_000 });
    const m = await p.evaluate(() => ({
      painted: performance.getEntriesByName('dashboard-painted')[0].startTime,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
      cached: [...document.querySelectorAll('.widget')].filter((w) => w.dataset.cached !== 'true').map((w) => w.querySelector('h2').textContent),
    }));
    await p.close();
    if (i === 0) continue; // warm-up: fills the server's widget cache and the browser's ETags
    if (m.cached.length) {
      uncached.push(`${Math.round(m.painted)} ms, not cached: ${m.cached.join(', ')}`);
      continue;
    }
    samples.push(m.painted);
    fcps.push(m.fcp);
  }
  assert(samples.length >= 3, `only ${samples.length} loads were served from the cache: ${uncached.join('; ')}`);
  samples.sort((a, b) => a - b);
  fcps.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  results.firstPaint = { medianMs: Math.round(median), minMs: Math.round(samples[0]), maxMs: Math.round(samples[samples.length - 1]), fcpMedianMs: Math.round(fcps[Math.floor(fcps.length / 2)]), runs: samples.length };
  console.log(`# learner-progress painted with data: median ${results.firstPaint.medianMs} ms (min ${results.firstPaint.minMs}, max ${results.firstPaint.maxMs}), first contentful paint median ${results.firstPaint.fcpMedianMs} ms; uncached loads skipped: ${uncached.length ? uncached.join('; ') : 'none'}`);
  // The target is 1 s. On a machine busy with other work (load average
  // above its core count) the bound grows with the load, so the check still
  // catches a regression without failing on a neighbour's build.
  const load = loadFactor();
  results.firstPaint.loadFactor = Math.round(load * 10) / 10;
  assert(median <= 1000 * load, `median first paint ${Math.round(median)} ms exceeds 1 s × load factor ${load.toFixed(1)}`);
});

if (SHOTS) {
  // A cohort with history, so its page has something to show.
  const c = await data(adminToken, 'mutation($in: CohortInput!) { createCohort(input: $in) { id } }',
    { in: { name: 'Engaged learners', description: 'Completed 3+ lessons in the last 30 days', active: true, criteria: { performed: { type: 'lesson.completed', count: 3, op: 'gte', within: '30d' } } } });
  await data(adminToken, 'mutation($id: ID!) { evaluateCohort(id: $id) { size } }', { id: c.createCohort.id });
  await page.goto(`${BASE}/#/cohorts/${c.createCohort.id}`);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(SHOTS, 'console-cohort.png') });
  // A report with a run in its history, and an erasure request, so that
  // their pages have something to show.
  const rep = await data(adminToken, 'mutation($in: ReportInput!) { createReport(input: $in) { id } }',
    { in: { name: 'Weekly learner progress', format: 'PDF', schedule: { preset: 'WEEKLY', timezone: 'Europe/Paris' }, source: { dashboard: 'learner-progress', timeRange: { last: '7d' } } } });
  await data(adminToken, 'mutation($id: ID!) { runReportNow(id: $id) { id } }', { id: rep.createReport.id });
  await data(adminToken, 'mutation($u: String!) { requestErasure(userId: $u) { id } }', { u: 'learner-who-left-0042' });
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const runs = await data(adminToken, 'query($id: ID!) { reportRuns(reportId: $id, first: 5) { nodes { status } } }', { id: rep.createReport.id });
    if (runs.reportRuns.nodes.some((r) => r.status === 'SUCCEEDED' || r.status === 'FAILED')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const [p, name, full] of [['/journeys?tab=funnel', 'console-journeys-funnel', true], ['/journeys?tab=retention', 'console-journeys-retention'],
    ['/journeys?tab=paths', 'console-journeys-paths'], [`/reports/${rep.createReport.id}`, 'console-reports', true], ['/privacy', 'console-privacy', true]]) {
    await page.goto(`${BASE}/#${p}`);
    await page.waitForSelector('main .page');
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: !!full });
  }
  for (const [p, name] of [['/dashboards/learner-progress', 'console-dashboard'], ['/dashboards/learner-journey', 'console-dashboard-journey'], ['/explore?metric=course_completions&last=180d&grain=WEEK&dims=properties.course_id&limit=5&compare=', 'console-explorer'], ['/sql', 'console-sql'], ['/exports', 'console-exports'], ['/cohorts', 'console-cohorts']]) {
    await page.goto(`${BASE}/#${p}`);
    await page.waitForLoadState('networkidle');
    if (p === '/sql') await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: p.startsWith('/dashboards') });
  }
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.goto(`${BASE}/#/dashboards/learner-progress`);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(SHOTS, 'console-dashboard-tablet.png') });
}
await admin.close();

// Tenant A's private objects, made through the API, that tenant B must never see.
const secretSlug = `tenant-a-secret-${Date.now()}`;
await data(adminToken, 'mutation($in: DashboardInput!) { createDashboard(input: $in) { id } }', { in: { slug: secretSlug, title: 'Tenant A secret board' } });
await data(adminToken, 'mutation($in: CohortInput!) { createCohort(input: $in) { id } }', { in: { name: 'Tenant A secret cohort', criteria: { performed: { type: 'lesson.completed', count: 1, op: 'gte', within: '30d' } } } });

await check('a viewer does not see admin or analyst pages', async () => {
  const v = await browser('console-e2e');
  try {
    await signInWithToken(v.page, VIEWER);
    assert((await v.page.textContent('[data-testid=role]')) === 'VIEWER', 'role shown is not VIEWER');
    const nav = await v.page.$$eval('header nav a', (as) => as.map((a) => a.textContent));
    assert(JSON.stringify(nav) === JSON.stringify(['Dashboards', 'Explorer', 'Journeys', 'Cohorts', 'Monitors', 'Reports', 'Insights']), `viewer nav: ${nav}`);
    for (const p of ['/privacy', '/sql', '/exports']) {
      await v.page.goto(`${BASE}/#${p}`);
      await v.page.waitForSelector('main h1');
      assert((await v.page.textContent('main h1')) === 'Not allowed', `${p} was shown to a viewer`);
    }
    await v.page.goto(`${BASE}/#/dashboards/learner-progress`);
    await v.page.waitForSelector('.kpi-value');
    assert((await v.page.getByRole('button', { name: 'Edit widgets' }).count()) === 0, 'a viewer is offered widget editing');
    assert((await v.page.locator('.add-widget').count()) === 0, 'a viewer is offered adding widgets');
    for (const p of ['/dashboards', '/explore', '/cohorts', '/reports']) {
      await v.page.goto(`${BASE}/#${p}`);
      await v.page.waitForLoadState('networkidle');
    }
    await v.page.goto(`${BASE}/#/journeys`);
    await v.page.waitForSelector('.funnel-chart[data-ready]', { timeout: 30_000 });
    assert((await v.page.getByRole('heading', { name: 'Save users as a cohort' }).count()) === 0, 'a viewer is offered saving funnel users as a cohort');
    assert(v.errors.length === 0, `console errors:\n${v.errors.join('\n')}`);
  } finally {
    await v.close();
  }
});

await check("tenant B's token never shows tenant A's objects", async () => {
  const b = await browser('console-e2e');
  try {
    await signInWithToken(b.page, OTHER);
    assert((await b.page.textContent('[data-testid=tenant]')) === 'acme-corp', 'tenant shown is not acme-corp');
    for (const p of PAGES) {
      await b.page.goto(`${BASE}/#${p}`);
      await b.page.waitForLoadState('networkidle');
      const text = await visibleText(b.page);
      assert(!text.includes('Tenant A secret'), `${p} shows tenant A's objects`);
    }
    await b.page.goto(`${BASE}/#/dashboards/${secretSlug}`);
    await b.page.waitForSelector('main h1');
    assert((await b.page.textContent('main h1')) === 'Not found', "tenant A's dashboard opened for tenant B");
    assert(b.errors.length === 0, `console errors:\n${b.errors.join('\n')}`);
  } finally {
    await b.close();
  }
});

await check('the pages ask for no field or argument the schema marks @deprecated', async () => {
  assert(admin.queries.length > 20, `only ${admin.queries.length} GraphQL queries seen`);
  const uses = deprecatedUses(admin.queries);
  assert(uses.length === 0, uses.join('\n'));
});

if (process.env.RESULTS_FILE) writeFileSync(process.env.RESULTS_FILE, JSON.stringify(results, null, 2));
finish();
