// Signs in through Gatehouse's pages in headless Chromium, as a person would, and saves a screenshot of
// each page at desktop and phone width. Driven by tests/e2e/browser.rs:
//   node sign_in.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir>
// It prints "CODE?" when the second-factor page is shown and reads the code from stdin; at the end it
// prints "DONE <callback URL>". Any failure exits non-zero with the reason.
import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [start, callback, email, password, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
const ask = async (question) => {
  console.log(question);
  const { value } = await lines.next();
  return value.trim();
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // The relying party's callback: answered here, so nothing has to listen on it.
  let returned = null;
  await page.route(`${callback}**`, (route) => {
    returned = route.request().url();
    route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
  });
  const shot = async (name) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: `${shots}/${name}-desktop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${shots}/${name}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  };

  await page.goto(start);
  await page.getByLabel('E-mail address').waitFor();
  await shot('login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.waitForURL(/\/mfa\?flow=/);
  const code = page.locator('#code');
  await code.waitFor();
  await shot('second-factor');
  await code.fill(await ask('CODE?'));
  await code.press('Enter');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned) throw new Error('the browser never reached the callback');
  console.log(`DONE ${returned}`);
} finally {
  input.close();
  await browser.close();
}
