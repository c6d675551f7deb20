// Opens pages and saves screenshots: node e2e/look.mjs BASE OUTDIR path...
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [base, out, ...paths] = process.argv.slice(2);
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chr-')), { executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1366, height: 900 }, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.goto(base + '/');
await page.getByRole('button', { name: 'Use the dev admin token' }).click();
await page.waitForSelector('[data-testid=tenant]');
for (const p of paths) {
  await page.goto(base + '/#' + p);
  await page.waitForTimeout(2500);
  const name = p.replace(/[^a-z0-9]+/gi, '_');
  await page.screenshot({ path: join(out, name + '.png'), fullPage: true });
  console.log('shot', name);
}
await browser.close();
