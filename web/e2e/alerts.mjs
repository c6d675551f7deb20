// Browser test of the live alert feed: the Monitors page subscribes to
// alertEvents; a rule created during the test transitions to FIRING on the
// server's next alerts tick (every minute under the Go test, ANALYTICS_ALERTS_CRON) and its triggered event must
// appear in the open page without a reload. Run by web/alerts_browser_test.go,
// which compares what the page showed (RESULTS_FILE) with the event the
// server published on NATS. SCREENSHOT_DIR (optional) receives screenshots
// of the rules table, a reviewed monitor and the feed. Prints "ok - …" / "not ok - …" per check and
// "N passed, N failed" last.
import { writeFileSync } from 'node:fs';
import { assert, browser, check, data, finish, requireEnv, signInAsDevAdmin } from './lib.mjs';

const [BASE, RESULTS] = requireEnv('BASE_URL', 'RESULTS_FILE');
const RULE = `E2E live DAU ${Date.now()}`;

const admin = await browser('alerts-e2e');
const page = admin.page;
const token = await signInAsDevAdmin(page);

await check('a rule that fires on the next tick pushes its triggered event into the open page, without a reload', async () => {
  await page.goto(`${BASE}/#/monitors`);
  await page.waitForSelector('[data-testid=live-state][data-state=live]', { timeout: 30_000 }); // alertEvents is open
  await page.evaluate(() => { window.__sameDocument = true; });
  const before = await page.locator('[data-testid=alert-feed] tr[data-event]').count();
  // Yesterday's daily active learners are above 0: the first evaluation fires (for 0s).
  const { createAlertRule: rule } = await data(token, `mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id } }`,
    { in: { name: RULE, kind: 'THRESHOLD', metricKey: 'active_learners_dau', grain: 'DAY', comparator: 'ABOVE', threshold: 0, enabled: true } });
  const t0 = Date.now();
  const row = page.locator('[data-testid=alert-feed] tr[data-event]', { hasText: RULE });
  await row.first().waitFor({ timeout: 7 * 60_000 }); // the alerts tick runs every minute in the test (5 by default)
  const waitedMs = Date.now() - t0;
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
  assert(await page.locator('[data-testid=alert-feed] tr[data-event]').count() === before + 1, 'not exactly one new row');
  const cells = await row.first().locator('td').allTextContents();
  const id = await row.first().getAttribute('data-event');
  const hist = await data(token, `query($id: ID!) { alertHistory(ruleId: $id, timeRange: {last: "3d"}) { state value } }`, { id: rule.id });
  assert(hist.alertHistory.some((e) => e.state === 'FIRING'), `the rule's history has no FIRING entry: ${JSON.stringify(hist.alertHistory)}`);
  writeFileSync(RESULTS, JSON.stringify({ id, ruleId: rule.id, ruleName: cells[2], event: cells[1], value: cells[5], waitedMs }));
  console.log(`# triggered event ${id} shown ${waitedMs} ms after the rule was created`);
});

await check('a rule not evaluated yet says when its first check is due, from the schedule', async () => {
  // The tick runs at second 0 of every minute here: create and look well before the next one.
  while (new Date().getUTCSeconds() > 25) await page.waitForTimeout(1000);
  const { createAlertRule: rule } = await data(token, `mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id nextEvaluationAt } }`,
    { in: { name: `E2E next check ${Date.now()}`, kind: 'THRESHOLD', metricKey: 'enrolments', grain: 'DAY', comparator: 'ABOVE', threshold: 1e9 } });
  await page.goto(`${BASE}/#/monitors`);
  await page.reload();
  const state = page.locator(`[data-testid=alert-rules] tr[data-rule="${rule.id}"] [data-next-check]`);
  await state.waitFor();
  const text = await state.textContent();
  assert(text === 'not evaluated next check ≤ 1 min', `state shown: ${text}`);
  if (process.env.SCREENSHOT_DIR) await page.locator('[data-testid=alert-rules]').screenshot({ path: `${process.env.SCREENSHOT_DIR}/alert-rules-next-check.png` });
  const due = await state.getAttribute('data-next-check');
  assert(new Date(due).getTime() === new Date(rule.nextEvaluationAt).getTime() && new Date(due).getUTCSeconds() === 0, `next check ${due}, GraphQL ${rule.nextEvaluationAt}`);
});

await check("a reviewed flagged bucket and its alert event show the LLM review's verdict and explanation", async () => {
  // A spike yesterday: 150 completions against a few a day.
  const yesterday = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - 1, 12));
  const tag = `e2e-spike-${Date.now()}`;
  const spike = Array.from({ length: 150 }, (_, i) => ({ id: `${tag}-${i}`, type: 'course.completed', user_id: `${tag}-${i}`,
    occurred_at: new Date(yesterday.getTime() + i * 1000).toISOString(), properties: { course_id: 'demo-course-01' } }));
  const res = await fetch(`${BASE}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(spike) });
  assert(res.status === 200, `POST /v1/events answered ${res.status}: ${await res.text()}`);
  const stored = async () => (await data(token, `{ eventsQuery(sql: "SELECT count() FROM events WHERE user_id LIKE '${tag}-%'") { rows } }`)).eventsQuery.rows[0][0];
  for (const t0 = Date.now(); Number(await stored()) < spike.length; await page.waitForTimeout(500)) assert(Date.now() - t0 < 60_000, 'the spike was not stored in 60 s');

  const { createMonitor: m } = await data(token, `mutation($in: MonitorInput!) { createMonitor(input: $in) { id } }`,
    { in: { name: `E2E reviewed completions ${tag}`, metricKey: 'course_completions', grain: 'DAY', llmReview: 'EXPLAIN' } });
  // Its backfill scores the history and asks the (scripted) model about the flagged buckets of the tick window.
  let point = null;
  for (const t0 = Date.now(); !point; await page.waitForTimeout(1000)) {
    assert(Date.now() - t0 < 4 * 60_000, 'no reviewed bucket within 4 minutes of creating the monitor');
    const a = await data(token, `query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { points { bucket anomalous review { status verdict explanation } } } }`,
      { in: { monitorId: m.id, timeRange: { last: '30d' } } });
    point = a.metricAnomalies.flatMap((x) => x.points).find((p) => p.anomalous && p.review?.status === 'REVIEWED') ?? null;
  }
  await page.goto(`${BASE}/#/monitors/${encodeURIComponent(m.id)}?last=30d`);
  const row = page.locator(`table.anomalies tr[data-bucket="${point.bucket}"]`);
  await row.waitFor();
  const review = row.locator('[data-review=REVIEWED]');
  assert((await review.getAttribute('data-verdict')) === point.review.verdict, `verdict shown ${await review.getAttribute('data-verdict')}, GraphQL ${point.review.verdict}`);
  const shown = await review.innerText();
  assert(shown.includes(point.review.verdict) && shown.includes(point.review.explanation), `review shown: ${shown}`);
  if (process.env.SCREENSHOT_DIR) await page.locator('[data-testid=monitor-series]').first().screenshot({ path: `${process.env.SCREENSHOT_DIR}/monitor-review.png` });
  const unreviewed = await page.$$eval('table.anomalies tr[data-bucket]', (trs) => trs.filter((tr) => !tr.querySelector('[data-review]')).length);
  const flagged = await page.$$eval('table.anomalies tr[data-bucket]', (trs) => trs.length);
  console.log(`# ${flagged} flagged buckets shown, ${flagged - unreviewed} with a review`);

  // An ANOMALY rule on the monitor fires on the next tick; its event in the feed carries the same review.
  await page.goto(`${BASE}/#/monitors`);
  await page.waitForSelector('[data-testid=live-state][data-state=live]', { timeout: 30_000 });
  const name = `E2E reviewed anomaly ${tag}`;
  await data(token, `mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id } }`,
    { in: { name, kind: 'ANOMALY', metricKey: 'course_completions', grain: 'DAY', monitorId: m.id, threshold: 0.5 } });
  const ev = page.locator('[data-testid=alert-feed] tr[data-event]', { hasText: name }).first();
  await ev.waitFor({ timeout: 4 * 60_000 });
  const id = await ev.getAttribute('data-event');
  const note = page.locator(`[data-testid=alert-feed] tr[data-review-for="${id}"] [data-review=REVIEWED]`);
  await note.waitFor({ timeout: 15_000 });
  const text = await note.innerText();
  assert(text.includes(point.review.verdict) && text.includes(point.review.explanation), `the event's review: ${text}`);
  // The feed's other events (THRESHOLD rules) have no review row.
  if (process.env.SCREENSHOT_DIR) await page.locator('[data-testid=alert-feed]').screenshot({ path: `${process.env.SCREENSHOT_DIR}/alert-feed-review.png` });
  const rows = await page.locator('[data-testid=alert-feed] tr[data-review-for]').count();
  assert(rows === 1, `${rows} review rows in the feed`);
});

await check('no console errors on the monitors page', async () => {
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});
await admin.close();
finish();
