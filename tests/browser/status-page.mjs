// Signs in to Intake's status page in headless Chromium and reports what a person would have seen, as one JSON line.
// Usage: node status-page.mjs <intake base URL> <token>. Debian's Chromium; nothing is downloaded.
import { chromium } from 'playwright-core';

const [baseUrl, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await page.goto(baseUrl);
  const askedForToken = await page.locator('input[type=password]#token').isVisible();
  const rowsBefore = await page.locator('table tbody tr').count();

  await page.fill('#token', 'not-a-token-' + 'x'.repeat(40));
  await page.click('button[type=submit]');
  await page.locator('#error').filter({ hasText: /not valid/ }).waitFor({ timeout: 10000 });
  const wrongTokenError = await page.locator('#error').textContent();

  await page.fill('#token', token);
  await Promise.all([page.waitForEvent('load'), page.click('button[type=submit]')]);
  await page.locator('table tbody tr').first().waitFor({ timeout: 10000 });
  const rows = await page.locator('table tbody tr').allInnerTexts();
  const cookie = (await context.cookies()).find(c => c.name === 'orchestrator-token');
  const scriptSeesCookie = await page.evaluate(() => document.cookie.includes('orchestrator-token'));

  // Back again later: the cookie is enough, the token is not asked for again.
  const again = await page.goto(baseUrl);
  const askedAgain = await page.locator('input[type=password]').count() > 0;
  console.log(JSON.stringify({
    firstStatus: first.status(), askedForToken, rowsBefore, wrongTokenError, rows,
    cookie: cookie && { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure },
    scriptSeesCookie, againStatus: again.status(), askedAgain,
  }));
} finally {
  await browser.close();
}
