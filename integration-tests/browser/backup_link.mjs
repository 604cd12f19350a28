// Getting back in without the second factor, in headless Chromium: someone with an authenticator app
// adds a backup e-mail address on the account page, confirms the password again before adding another
// app, and later, in another browser and without the app, signs in with the one-time link sent to the
// backup address. Each page is reviewed (axe-core, screenshots at desktop and phone width). Driven by
// tests/e2e/browser.rs:
//   node backup_link.mjs <account URL> <authorization URL> <callback prefix> <e-mail> <password>
//                        <backup address> <screenshot dir>
// It asks "TOTP?" (the app's code now), "MAILED-CODE?" (the code sent to the backup address), "LATER?"
// (answered once the server's clock has moved on past the time a sign-in counts as recent) and "LINK?"
// (the link sent to the backup address); at the end it prints "DONE <callback URL>".
import { ask, catchCallback, clickAndLoad, done, followLink, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { args: [account, start, callback, email, password, backup, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review, newPage }) => {
  await page.goto(account);
  await submitPassword(page, email, password);
  await page.locator('#code').fill(await ask('TOTP?'));
  await clickAndLoad(page, 'form[action="/mfa"] button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/account');

  await clickAndLoad(page, 'a[href="/account/backup-email"]');
  await review('backup-address');
  await page.locator('#address').fill(backup);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('input[name=enrolment]').waitFor({ state: 'attached' });
  await review('backup-address-confirm');
  await page.locator('#code').fill(await ask('MAILED-CODE?'));
  await clickAndLoad(page, 'button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/account');
  await page.locator('#backup-address').waitFor();
  await review('account-backup-address-set');

  // Some time later the sign-in no longer counts as recent: adding a way to sign in asks for the
  // password first.
  await ask('LATER?');
  await clickAndLoad(page, 'a[href="/account/totp"]');
  await page.locator('input[name=next]').waitFor({ state: 'attached' });
  await review('confirm-password');
  await page.locator('#password').fill(password);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('#secret').waitFor();
  await review('account-authenticator-app');

  // In another browser, without the app: the link to the backup address.
  const other = await newPage();
  const returned = await catchCallback(other, callback);
  await other.goto(start);
  await submitPassword(other, email, password);
  await other.waitForURL(/\/mfa\?flow=/);
  await clickAndLoad(other, 'form[action="/mfa/backup-link"] button[type=submit]');
  await review('backup-link-sent', other);
  await followLink(other, await ask('LINK?'));
  await other.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(returned());
});
