// Signs in with password and authenticator app through Gatehouse's pages in headless Chromium, as a
// person would, reviewing each page (axe-core, screenshots at desktop and phone width). Driven by
// tests/e2e/browser.rs:
//   node sign_in.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir> [--no-js] [--lang=<code>]
// It prints "CODE?" when the second-factor page is shown and reads the code from stdin; at the end it
// prints "DONE <callback URL>". Any failure exits non-zero with the reason.
import { ask, catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [start, callback, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const returned = await catchCallback(page, callback);
  await page.goto(start);
  await review('login');
  await submitPassword(page, email, password);

  await page.waitForURL(/\/mfa\?flow=/);
  await review('second-factor');
  await page.locator('#code').fill(await ask('CODE?'));
  // Enter in the field submits the form, with or without JavaScript.
  await page.locator('#code').press('Enter');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(returned());
}, options);
