// Themes in headless Chromium: the sign-in page of a client with its own theme next to one with the
// default theme, as the browser renders them. Each page is reviewed (axe-core, screenshots at desktop
// and phone width). Driven by tests/e2e/browser.rs:
//   node themes.mjs <themed authorization URL> <default authorization URL> <screenshot dir>
// At the end it prints "DONE <JSON>": for each page, the sign-in button's computed colours, the page
// background, and the logo (its alternative text and whether the image loaded), or null without one.
import { clickAndLoad, done, inChromium, scriptArguments } from './common.mjs';

const { args: [themed, plain, shots] } = scriptArguments();
await inChromium(shots, async ({ page, review }) => {
  const seen = {};
  for (const [name, start] of [['themed', themed], ['default', plain]]) {
    await page.goto(start);
    await page.locator('#email').waitFor();
    await review(`login-${name}`);
    seen[name] = await page.evaluate(() => {
      const button = getComputedStyle(document.querySelector('button[type=submit]'));
      const logo = document.querySelector('img.logo');
      return {
        button: button.backgroundColor,
        buttonText: button.color,
        background: getComputedStyle(document.body).backgroundColor,
        logo: logo && { alt: logo.alt, loaded: logo.complete && logo.naturalWidth > 0 },
      };
    });
    // The forgotten-password page of the same sign-in keeps the same theme.
    await clickAndLoad(page, 'a[href^="/password/forgot?flow="]');
    seen[name].forgotButton = await page.evaluate(
      () => getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor);
  }
  done(JSON.stringify(seen));
});
