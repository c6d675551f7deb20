// Browser tests of the Monitors page and of dashboard overlays (forecast
// band, anomaly markers) in Debian's Chromium, driven by playwright-core.
// Run by web/browser_test.go after console.mjs, against the same server and
// with the same environment (BASE_URL, VIEWER_TOKEN, OTHER_TOKEN,
// SCREENSHOT_DIR). The admin of tenant demo signs in with the dev token.
// Prints "ok - …" / "not ok - …" per check and "N passed, N failed" last.
import { join } from 'node:path';
import { assert, browser, check, data, finish, requireEnv, signInAsDevAdmin, signInWithToken } from './lib.mjs';

const [BASE, OTHER] = requireEnv('BASE_URL', 'OTHER_TOKEN');
const SHOTS = process.env.SCREENSHOT_DIR || '';

/** The series ECharts really plotted in the chart at selector, by name. */
async function plotted(page, selector) {
  return page.$eval(selector, (el) => Object.fromEntries(el.__chart.getOption().series.map((s) => [s.name, s.data])));
}

const close = (a, b) => Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(a));
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }); };

const admin = await browser('monitors-e2e');
const page = admin.page;
const token = await signInAsDevAdmin(page);

await check('the monitors list and the alert rules equal the GraphQL answers, key-metric defaults included', async () => {
  await page.goto(`${BASE}/#/monitors`);
  await page.waitForSelector('[data-testid=monitors] tbody tr');
  const d = await data(token, '{ monitors { id isDefault } alertRules { id } }');
  const shown = await page.$$eval('[data-testid=monitors] tbody tr', (rs) => rs.map((r) => r.dataset.monitor));
  assert(JSON.stringify(shown) === JSON.stringify(d.monitors.map((m) => m.id)), `monitors shown ${shown} ≠ ${d.monitors.map((m) => m.id)}`);
  assert(shown.includes('key:course_completions'), 'the key-metric default of course_completions is not listed');
  const rules = await page.$$eval('[data-testid=alert-rules] tbody tr', (rs) => rs.map((r) => r.dataset.rule));
  assert(JSON.stringify(rules) === JSON.stringify(d.alertRules.map((r) => r.id)), `rules shown ${rules} ≠ ${d.alertRules.map((r) => r.id)}`);
  assert(await page.locator('[data-testid=alert-rules] [data-state]').count() === rules.length, 'a rule without a state badge');
  await page.waitForSelector('[data-testid=live-state][data-state=live]', { timeout: 10_000 }); // the alertEvents subscription is open
  await shot(page, 'monitors');
});

await check('a bad monitor is refused with the API error shown; a good one opens its page', async () => {
  await page.goto(`${BASE}/#/monitors`);
  await page.waitForSelector('[data-testid=monitor-form]');
  await page.fill('[data-testid=monitor-form] input[name=metricKey]', 'no_such_metric');
  await page.getByRole('button', { name: 'Create monitor' }).click();
  await page.waitForSelector('[data-testid=monitor-form] .error');
  const err = await page.textContent('[data-testid=monitor-form] .error');
  assert(err.includes('BAD_USER_INPUT') && err.includes('no_such_metric') && err.includes('field: metricKey'), `error shown: ${err}`);
  await page.fill('[data-testid=monitor-form] input[name=metricKey]', 'course_completions');
  await page.fill('[data-testid=monitor-form] input[name=name]', 'E2E completions');
  await page.getByRole('button', { name: 'Create monitor' }).click();
  await page.waitForURL(/#\/monitors\/[0-9a-f-]{36}$/);
  await page.waitForSelector('h1');
  assert((await page.textContent('main h1')) === 'E2E completions', 'the new monitor page is not shown');
});

await check("a monitor's chart plots metricAnomalies' values and markers and metricForecast's forecast", async () => {
  const id = 'key:course_completions';
  await page.goto(`${BASE}/#/monitors/${id}?last=90d`);
  await page.waitForSelector('[data-testid=monitor-series] .monitor-chart canvas', { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('.monitor-chart').__chart?.getOption().series.length > 0);
  const source = await page.textContent('[data-testid=score-source]');
  const stored = source.startsWith('stored');
  const mon = (await data(token, 'query($id: ID!) { monitor(id: $id) { detector sensitivity } }', { id })).monitor;
  const input = stored ? { monitorId: id, timeRange: { last: '90d' } }
    : { metricKey: 'course_completions', grain: 'DAY', detector: mon.detector, sensitivity: mon.sensitivity, timeRange: { last: '90d' } };
  const d = await data(token, `query($in: MetricAnomaliesInput!, $f: MetricForecastInput!) {
    metricAnomalies(input: $in) { points { bucket value anomalous } } metricForecast(input: $f) { points { value } } }`,
  { in: input, f: { metricKey: 'course_completions', grain: 'DAY', horizon: 14 } });
  const pts = d.metricAnomalies[0].points;
  const s = await plotted(page, '.monitor-chart');
  const values = s['Course completions'].filter((v) => v !== null);
  assert(values.length === pts.length && values.every((v, i) => close(v, pts[i].value)), `values differ: ${values.length} plotted, ${pts.length} scored`);
  const markers = s.anomaly ?? [];
  assert(markers.length === pts.filter((p) => p.anomalous).length, `${markers.length} markers for ${pts.filter((p) => p.anomalous).length} anomalous buckets`);
  const count = Number(await page.getAttribute('[data-testid=anomaly-count]', 'data-count'));
  assert(count === markers.length, `count shown ${count}`);
  const fc = s['forecast (95%)'].filter((v) => v !== null).slice(1); // the first joins the last value
  const want = d.metricForecast[0].points.map((p) => p.value);
  assert(fc.length === want.length && fc.every((v, i) => close(v, want[i])), `forecast differs: ${fc} vs ${want}`);
  assert(s['forecast (95%) band'] && s['expected (95%) band'], 'a band is missing');
  await shot(page, 'monitor');
});

await check('an admin switches a monitor off (updateMonitor)', async () => {
  const { monitors } = await data(token, '{ monitors { id name active } }');
  const m = monitors.find((x) => x.name === 'E2E completions');
  await page.goto(`${BASE}/#/monitors/${m.id}`);
  await page.waitForSelector('[data-testid=tune-form]');
  await page.uncheck('[data-testid=tune-form] input[name=active]');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('main p.muted')?.textContent.includes('switched off'), null, { timeout: 15_000 });
  const after = await data(token, 'query($id: ID!) { monitor(id: $id) { active version } }', { id: m.id });
  assert(after.monitor.active === false && after.monitor.version === 2, `monitor after tuning: ${JSON.stringify(after.monitor)}`);
});

await check('a rule backtest shows the buckets simulateAlertRule fires; creating the rule opens its state history', async () => {
  await page.goto(`${BASE}/#/monitors`);
  await page.waitForSelector('[data-testid=rule-form]');
  const f = '[data-testid=rule-form]';
  await page.fill(`${f} input[name=ruleName]`, 'E2E few completions');
  await page.selectOption(`${f} select[name=kind]`, 'THRESHOLD');
  await page.selectOption(`${f} select[name=comparator]`, 'BELOW');
  await page.fill(`${f} input[name=threshold]`, '2');
  await page.getByRole('button', { name: 'Backtest', exact: true }).click();
  await page.waitForSelector('[data-testid=fired-count]', { timeout: 30_000 });
  const shown = Number(await page.getAttribute('[data-testid=fired-count]', 'data-fired'));
  const d = await data(token, `query($in: AlertRuleInput!) { simulateAlertRule(input: $in, timeRange: {last: "90d"}) { firedBuckets } }`,
    { in: { name: 'E2E few completions', kind: 'THRESHOLD', metricKey: 'course_completions', grain: 'DAY', comparator: 'BELOW', threshold: 2 } });
  assert(shown === d.simulateAlertRule.firedBuckets.length, `backtest shows ${shown}, simulateAlertRule fires ${d.simulateAlertRule.firedBuckets.length}`);
  assert(shown > 0, 'a rule "below 2 completions a day" never fires on the demo data');
  await page.waitForFunction(() => document.querySelector('[data-testid=simulation] .chart').__chart?.getOption().series.length > 0);
  const markers = (await plotted(page, '[data-testid=simulation] .chart')).anomaly ?? [];
  assert(markers.length === shown, `${markers.length} red markers for ${shown} fired buckets`);
  await shot(page, 'backtest');
  await page.fill(`${f} input[name=ruleMetric]`, 'no_such_metric');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.waitForSelector(`${f} .error`);
  const err = await page.textContent(`${f} .error`);
  assert(err.includes('BAD_USER_INPUT') && err.includes('no_such_metric'), `error shown: ${err}`);
  await page.fill(`${f} input[name=ruleMetric]`, 'course_completions');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.waitForURL(/#\/alerts\//);
  await page.waitForSelector('[data-testid=state-history]');
  assert((await page.textContent('main h1')) === 'E2E few completions', 'the rule page is not shown');
});

await check('a dashboard line widget draws the forecast band and anomaly markers of its render overlay; a bad horizon is refused', async () => {
  const slug = `bands-${Date.now()}`;
  await data(token, `mutation($in: DashboardInput!, $w: [WidgetInput!]) { createDashboard(input: $in, widgets: $w) { id } }`, {
    in: { slug, title: 'Bands', timeRange: { last: '180d' } },
    w: [{ title: 'Completions', kind: 'LINE', metricKeys: ['course_completions'], grain: 'DAY', position: { x: 0, y: 0, w: 12, h: 5 },
      overlay: { forecast: { horizon: 14 }, anomalies: { sensitivity: 'HIGH' } } }],
  });
  await page.goto(`${BASE}/#/dashboards/${slug}`);
  await page.waitForSelector('.widget[data-anomalies] canvas', { timeout: 30_000 });
  const d = await data(token, `query($s: String!) { dashboard(idOrSlug: $s) { render { widgets { overlay { error { message }
    forecast { points { value } } anomalies { points { anomalous } } } } } } }`, { s: slug });
  const ov = d.dashboard.render.widgets[0].overlay;
  assert(!ov.error, `overlay error: ${JSON.stringify(ov.error)}`);
  const s = await plotted(page, '.widget .chart');
  const fc = s['forecast (95%)'].filter((v) => v !== null).slice(1);
  const want = ov.forecast[0].points.map((p) => p.value);
  assert(fc.length === want.length && fc.every((v, i) => close(v, want[i])), `forecast differs: ${fc} vs ${want}`);
  const anomalous = ov.anomalies[0].points.filter((p) => p.anomalous).length;
  assert((s.anomaly ?? []).length === anomalous, `${(s.anomaly ?? []).length} markers for ${anomalous} anomalous buckets`);
  console.log(`# dashboard overlay: ${fc.length} forecast buckets, ${anomalous} anomaly markers`);
  await shot(page, 'dashboard-overlay');

  await page.getByRole('button', { name: 'Edit widgets' }).click();
  await page.getByRole('button', { name: 'Edit Completions' }).click();
  await page.fill('[data-testid=widget-form] input[name=forecast]', '5000');
  await page.getByRole('button', { name: 'Save widget' }).click();
  await page.waitForSelector('[data-testid=widget-form] .error');
  const err = await page.textContent('[data-testid=widget-form] .error');
  assert(err.includes('BAD_USER_INPUT') && err.includes('widget.overlay.forecast.horizon'), `error shown: ${err}`);
});

await check('no console errors on the monitors pages (admin)', async () => {
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});
await admin.close();

await check("tenant B sees its own default monitors, never tenant A's monitor or rule", async () => {
  const { monitors, alertRules } = await data(token, '{ monitors { id name } alertRules { id name } }');
  const mine = monitors.find((m) => m.name === 'E2E completions');
  const rule = alertRules.find((r) => r.name === 'E2E few completions');
  const b = await browser('monitors-e2e');
  try {
    await signInWithToken(b.page, OTHER);
    await b.page.goto(`${BASE}/#/monitors`);
    await b.page.waitForSelector('[data-testid=monitors] tbody tr');
    const text = await b.page.evaluate(() => document.body.innerText);
    assert(!text.includes('E2E completions') && !text.includes('E2E few completions'), "tenant A's monitor or rule is listed for tenant B");
    assert(text.includes('Course completions'), "tenant B's key-metric defaults are missing");
    for (const [p, what] of [[`/monitors/${mine.id}`, 'monitor'], [`/alerts/${rule.id}`, 'rule']]) {
      await b.page.goto(`${BASE}/#${p}`);
      await b.page.waitForSelector('main h1');
      assert((await b.page.textContent('main h1')) === 'Not found', `tenant A's ${what} opened for tenant B`);
    }
    assert(b.errors.length === 0, `console errors:\n${b.errors.join('\n')}`);
  } finally {
    await b.close();
  }
});

finish();
