// Resets a forgotten password through Gatehouse's pages in headless Chromium, from the sign-in page's
// link to the new password, saving a screenshot of each page (desktop and phone width). Driven by
// tests/e2e/browser.rs:
//   node forgot_password.mjs <authorization URL> <e-mail> <new password> <screenshot dir>
// It prints "CODE?" when the code page is shown and reads the e-mailed code from stdin; at the end it
// prints "DONE". Any failure exits non-zero with the reason.
import { ask, inChromium } from './common.mjs';

const [start, email, newPassword, shots] = process.argv.slice(2);
await inChromium(shots, async (page, shot) => {
  await page.goto(start);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('E-mail address').waitFor();
  await shot('forgot-password');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByRole('button', { name: 'Send me a code' }).click();

  await page.getByLabel('Code from the e-mail').waitFor();
  await shot('reset-code');
  await page.getByLabel('Code from the e-mail').fill(await ask('CODE?'));
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.getByLabel('New password', { exact: true }).waitFor();
  await shot('new-password');
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Save the new password' }).click();

  await page.getByRole('heading', { name: 'Your password is changed' }).waitFor();
  await shot('password-changed');
  // Back to the same sign-in, which now takes the new password.
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  console.log(`DONE ${page.url()}`);
});
