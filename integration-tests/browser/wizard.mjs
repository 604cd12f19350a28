// The set-up wizard in headless Chromium: someone whose organisation requires a second step, and who
// has none, signs in, is taken through the wizard, adds an authenticator app by typing the key the page
// shows, saves the recovery codes and lands back at the app. Each page is reviewed (axe-core,
// screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node wizard.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir> [--no-js] [--lang=<code>]
// It prints "TOTP <key>?" with the key as the page shows it, and reads the app's current code from
// stdin; at the end it prints "DONE <callback URL>". Any failure exits non-zero with the reason.
import { ask, catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [start, callback, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const returned = await catchCallback(page, callback);
  await page.goto(start);
  await submitPassword(page, email, password);

  await page.waitForURL(/\/mfa\/setup\?flow=/);
  await review('wizard');
  await clickAndLoad(page, 'a[href^="/account/totp?flow="]');

  await page.locator('#secret').waitFor();
  await review('wizard-authenticator-app');
  const key = (await page.locator('#secret').textContent()).replace(/\s+/g, '');
  await page.locator('#code').fill(await ask(`TOTP ${key}?`));
  await clickAndLoad(page, 'button[type=submit]');

  await page.locator('#recovery-codes').waitFor();
  await review('wizard-recovery-codes');
  const codes = await page.locator('#recovery-codes li').count();
  if (codes !== 10) throw new Error(`expected ten recovery codes, the page shows ${codes}`);
  await clickAndLoad(page, 'a.button');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(returned());
}, options);
