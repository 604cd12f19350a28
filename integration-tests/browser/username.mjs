// From a username to an e-mail address, in headless Chromium: someone types their old username on the
// sign-in page, is told what changed, asks for a link by their old username, opens the e-mailed link,
// chooses a new password, and signs in with e-mail address and that password. Each page is reviewed
// (axe-core, screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node username.mjs <authorization URL> <username> <old password> <e-mail> <new password> <screenshot dir>
// It asks "LINK?" for the e-mailed link; at the end it prints "DONE <URL after signing in>".
import { ask, clickAndLoad, done, inChromium, scriptArguments } from './common.mjs';

const { options, args: [start, username, oldPassword, email, newPassword, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review, newPage }) => {
  await page.goto(start);
  await page.locator('#email').fill(username);
  await page.locator('#password').fill(oldPassword);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('#username-notice').waitFor();
  await review('login-username-notice');
  await clickAndLoad(page, 'a[href^="/login/username?flow="]');
  await review('username');
  await page.locator('#username').fill(username);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('#username').waitFor({ state: 'detached' });
  await review('username-link-sent');

  // The link opens anywhere: here, on a phone.
  const phone = await newPage();
  await phone.goto(await ask('LINK?'));
  await phone.locator('#new_password').waitFor();
  await review('username-new-password', phone);
  await phone.locator('#new_password').fill(newPassword);
  await phone.locator('#repeat_password').fill(newPassword);
  await clickAndLoad(phone, 'button[type=submit]');
  await phone.locator('a.button[href="/account"]').waitFor();
  await review('username-password-set', phone);

  // Back on the computer, the same sign-in takes the e-mail address and the new password.
  await clickAndLoad(page, `a[href^="/login?flow="]`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(newPassword);
  await clickAndLoad(page, 'button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  done(page.url());
}, options);
