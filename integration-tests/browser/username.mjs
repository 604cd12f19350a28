// From a username to an e-mail address, in headless Chromium: someone types their old username on the
// sign-in page, is told what changed, asks for a link by their old username, opens the e-mailed link in
// the same browser and chooses a new password, which signs them in and goes on with the application's
// sign-in (here to the second-factor set-up their organisation asks for). Each page is reviewed
// (axe-core, screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node username.mjs <authorization URL> <username> <old password> <new password> <screenshot dir>
// It asks "LINK?" for the e-mailed link; at the end it prints "DONE <URL after the new password>".
import { ask, clickAndLoad, done, followLink, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [start, username, oldPassword, newPassword, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  await page.goto(start);
  await submitPassword(page, username, oldPassword);
  await page.locator('#username-notice').waitFor();
  await review('login-username-notice');
  await clickAndLoad(page, 'a[href^="/login/username?flow="]');
  await review('username');
  await page.locator('#username').fill(username);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('#username').waitFor({ state: 'detached' });
  await review('username-link-sent');

  // Kees opens the link in the browser where he was signing in: the new password signs him in, and
  // the same sign-in goes on (his organisation's second-factor set-up comes next).
  await followLink(page, await ask('LINK?'));
  await page.locator('#new_password').waitFor();
  await review('username-new-password');
  await page.locator('#new_password').fill(newPassword);
  await page.locator('#repeat_password').fill(newPassword);
  await clickAndLoad(page, 'button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  await review('username-set-up');
  done(page.url());
}, options);
