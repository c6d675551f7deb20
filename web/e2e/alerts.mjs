// Browser test of the live alert feed: the Monitors page subscribes to
// alertEvents; a rule created during the test transitions to FIRING on the
// server's next alerts tick (every minute under the Go test, ANALYTICS_ALERTS_CRON) and its triggered event must
// appear in the open page without a reload. Run by web/alerts_browser_test.go,
// which compares what the page showed (RESULTS_FILE) with the event the
// server published on NATS. Prints "ok - …" / "not ok - …" per check and
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

await check('no console errors on the monitors page', async () => {
  assert(admin.errors.length === 0, `console errors:\n${admin.errors.join('\n')}`);
});
await admin.close();
finish();
