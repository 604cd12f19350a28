// Signing in with a recovery code in headless Chromium, from the authenticator-app step's list of other
// methods, to the page that says how many codes are left. Each page is reviewed (axe-core, screenshots
// at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node recovery_code.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir>
// It asks "RECOVERY-CODE?" for one of the saved codes; at the end it prints "DONE <codes left> <callback
// URL>".
import { ask, catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [start, callback, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const returned = await catchCallback(page, callback);
  await page.goto(start);
  await submitPassword(page, email, password);
  await page.waitForURL(/\/mfa\?flow=/);
  await clickAndLoad(page, 'a[href*="method=recovery_code"]');
  await page.locator('input[name=method][value=recovery_code]').waitFor({ state: 'attached' });
  await review('second-factor-recovery-code');
  await page.locator('#code').fill(await ask('RECOVERY-CODE?'));
  await clickAndLoad(page, 'form[action="/mfa"] button[type=submit]');
  const left = await page.locator('#codes-left').textContent();
  await review('recovery-code-used');
  await clickAndLoad(page, 'a.button');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(`${left} ${returned()}`);
}, options);
