// Passkeys in headless Chromium, with the DevTools Protocol's virtual authenticator standing in for the
// phone or laptop: the person creates a passkey on the account page, signs out, signs in to an app with
// password and passkey, signs out again, and signs in with the passkey alone. Each page is reviewed (axe-core,
// screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node passkey.mjs <account URL> <authorization URL> <second authorization URL> <callback prefix>
//                    <logout URL> <e-mail> <password> <screenshot dir>
// After the first sign-in it prints "REDEEM <callback URL>?" and waits for the app to redeem its code;
// at the end it prints "DONE <callback URL>". Any failure exits non-zero with the reason.
import { ask, catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { args: [account, start, again, callback, logout, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  // A platform authenticator that verifies the person (fingerprint, face or PIN) without asking.
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('WebAuthn.enable');
  const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const returned = await catchCallback(page, callback);

  await page.goto(account);
  await submitPassword(page, email, password);
  await page.waitForURL((url) => url.pathname === '/account');
  await clickAndLoad(page, 'a[href="/account/passkey"]');
  await review('passkey-create');
  await page.locator('#label').fill('Laptop');
  await clickAndLoad(page, '#passkey-start');
  await page.locator('#recovery-codes').waitFor();
  const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
    throw new Error(`expected one discoverable passkey on the authenticator, found ${JSON.stringify(credentials)}`);
  }
  await review('passkey-recovery-codes');

  // Signed out (the sign-out page asks first), an app's sign-in takes the password, then the passkey
  // as the second step.
  await page.goto(logout);
  await review('logout');
  await clickAndLoad(page, 'button[type=submit]');
  await review('logged-out');
  await page.goto(start);
  await submitPassword(page, email, password);
  await page.waitForURL(/\/mfa\?flow=/);
  await page.locator('#passkey-start').waitFor();
  await review('second-factor-passkey');
  await clickAndLoad(page, '#passkey-start');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  // The app redeems its code now: signing out ends what the session was given.
  await ask(`REDEEM ${returned()}?`);

  // Signed out again, the passkey alone signs in.
  await page.goto(logout);
  await clickAndLoad(page, 'button[type=submit]');
  await page.locator('h1').waitFor();
  await page.goto(again);
  await clickAndLoad(page, 'a[href^="/login/passkey?flow="]');
  await review('passkey-sign-in');
  await clickAndLoad(page, '#passkey-start');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  done(returned());
});
