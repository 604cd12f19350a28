// Codes by text message or e-mail in headless Chromium: the person adds the method on the account page
// (number or address, then the code sent there), saves the recovery codes, and later signs in to an app
// with password and a code sent on arrival at the second step. Each page is reviewed (axe-core,
// screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node codes.mjs <sms|email> <account URL> <authorization URL> <callback prefix> <e-mail> <password>
//                  <number or address> <screenshot dir>
// It prints "CODE?" whenever a code was sent and reads it from stdin; at the end it prints
// "DONE <callback URL>". Any failure exits non-zero with the reason.
import { ask, catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [method, account, start, callback, email, password, address, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review, newPage }) => {
  // The account page first asks for the password.
  await page.goto(account);
  await submitPassword(page, email, password);
  await page.waitForURL((url) => url.pathname === '/account');
  await review('account');

  await clickAndLoad(page, `a[href="/account/${method}"]`);
  await review(`${method}-address`);
  await page.locator('#address').fill(address);
  await clickAndLoad(page, 'button[type=submit]');

  await page.locator('input[name=enrolment]').waitFor({ state: 'attached' });
  await review(`${method}-confirm`);
  await page.locator('#code').fill(await ask('CODE?'));
  await clickAndLoad(page, 'button[type=submit]');

  await page.locator('#recovery-codes').waitFor();
  await review('recovery-codes');
  await clickAndLoad(page, 'a.button');
  await page.waitForURL((url) => url.pathname === '/account');
  await page.locator('.factors').waitFor();
  await review('account-with-factor');

  // Later, in another browser: an app's sign-in, where the code is sent as the second step opens.
  const later = await newPage();
  const returned = await catchCallback(later, callback);
  await later.goto(start);
  await submitPassword(later, email, password);
  await later.waitForURL(/\/mfa\?flow=/);
  await review(`second-factor-${method}`, later);
  await later.locator('#code').fill(await ask('CODE?'));
  await clickAndLoad(later, 'form[action="/mfa"] button[type=submit]');
  await later.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(returned());
}, options);
