// Signs in through Gatehouse's pages in headless Chromium, as a person would, and saves a screenshot of
// each page at desktop and phone width. Driven by tests/e2e/browser.rs:
//   node sign_in.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir>
// It prints "CODE?" when the second-factor page is shown and reads the code from stdin; at the end it
// prints "DONE <callback URL>". Any failure exits non-zero with the reason.
import { ask, inChromium } from './common.mjs';

const [start, callback, email, password, shots] = process.argv.slice(2);
await inChromium(shots, async (page, shot) => {
  // The relying party's callback: answered here, so nothing has to listen on it.
  let returned = null;
  await page.route(`${callback}**`, (route) => {
    returned = route.request().url();
    route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
  });
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
});
