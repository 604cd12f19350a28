// The one page that needs JavaScript, without it, in headless Chromium: the passkey sign-in says so and
// leads back to the password sign-in, which works. The page is reviewed (axe-core, screenshots at
// desktop and phone width). Driven by tests/e2e/browser.rs:
//   node passkey_without_javascript.mjs <authorization URL> <callback prefix> <e-mail> <password> <screenshot dir>
// At the end it prints "DONE <callback URL>".
import { catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { args: [start, callback, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const returned = await catchCallback(page, callback);
  await page.goto(start);
  await clickAndLoad(page, 'a[href^="/login/passkey?flow="]');
  await review('passkey-sign-in-no-js');
  // What <noscript> holds is shown (with JavaScript on it would be mere text): passkeys need JavaScript.
  if (!await page.locator('form noscript .error').isVisible()) {
    throw new Error('the passkey page does not say that it needs JavaScript');
  }
  await clickAndLoad(page, 'a[href^="/login?flow="]');
  await submitPassword(page, email, password);
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(returned());
}, { javaScript: false });
