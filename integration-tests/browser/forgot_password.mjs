// Resets a forgotten password through Gatehouse's pages in headless Chromium, from the sign-in page's
// link to the new password, reviewing each page (axe-core, screenshots at desktop and phone width).
// Driven by tests/e2e/browser.rs:
//   node forgot_password.mjs <authorization URL> <e-mail> <new password> <screenshot dir> [--no-js] [--lang=<code>]
// It prints "CODE?" when the code page is shown and reads the e-mailed code from stdin; at the end it
// prints "DONE <URL after signing in with the new password>". Any failure exits non-zero.
import { ask, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [start, email, newPassword, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  await page.goto(start);
  await clickAndLoad(page, 'a[href^="/password/forgot?flow="]');
  await review('forgot-password');
  await page.locator('#email').fill(email);
  await clickAndLoad(page, 'button[type=submit]');

  await page.locator('input[name=reset]').waitFor({ state: 'attached' });
  await review('reset-code');
  await page.locator('#code').fill(await ask('CODE?'));
  await clickAndLoad(page, 'button[type=submit]');

  await page.locator('#new_password').waitFor();
  await review('new-password');
  await page.locator('#new_password').fill(newPassword);
  await page.locator('#repeat_password').fill(newPassword);
  await clickAndLoad(page, 'button[type=submit]');

  // The last step has no form: only the way back to the same sign-in.
  await page.locator('a.button').waitFor();
  await review('password-changed');
  await clickAndLoad(page, 'a.button');
  await submitPassword(page, email, newPassword);
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  done(page.url());
}, options);
