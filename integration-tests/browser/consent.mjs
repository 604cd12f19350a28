// Consent and the error page in headless Chromium: an authorization request with a redirect URI the
// client never registered shows the error page (and sends the browser nowhere); a client that asks for
// consent shows what it wants, and "allow" sends the browser back to it; the service's home page
// (where the error page's host is) is reviewed too. Each page is reviewed
// (axe-core, screenshots at desktop and phone width). Driven by tests/e2e/browser.rs:
//   node consent.mjs <bad authorization URL> <authorization URL> <callback prefix> <e-mail> <password>
//                    <screenshot dir> [--no-js] [--lang=<code>]
// At the end it prints "DONE <error page status> <callback URL>".
import { catchCallback, clickAndLoad, done, inChromium, scriptArguments, submitPassword } from './common.mjs';

const { options, args: [bad, start, callback, email, password, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const refused = await page.goto(bad);
  await review('error');
  await page.goto(new URL('/', bad).toString());
  await review('home');

  const returned = await catchCallback(page, callback);
  await page.goto(start);
  await submitPassword(page, email, password);
  await page.waitForURL(/\/consent\?flow=/);
  await review('consent');
  await clickAndLoad(page, 'button[name=decision][value=allow]');
  await page.waitForURL((url) => url.toString().startsWith(callback));
  if (!returned()) throw new Error('the browser never reached the callback');
  done(`${refused.status()} ${returned()}`);
}, options);
