// What every browser script shares: headless Chromium as CI runs it, questions answered by the Rust
// test on stdin, and `review(name)`, which checks the page shown with axe-core and saves it at desktop
// and phone width.
//
// Elements are found by id, name, href or role, never by their English text: the pages also come in
// Dutch.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Prints `question` (ending in `?`) for the test and returns its one-line answer. */
export async function ask(question) {
  console.log(question);
  const { value } = await lines.next();
  return value.trim();
}

/** Prints the script's result for the test: `DONE <result>`. */
export function done(result) {
  console.log(`DONE ${result}`);
}

/** Watches for the browser being sent back to the relying party's `callback`; returns a function that
 * gives the last URL it was sent back to (or null). Nothing listens there: the route answers it when
 * Chromium lets it (not for a redirect it follows itself), else the tab shows a network error, which is
 * as good for the test. */
export async function catchCallback(page, callback) {
  let returned = null;
  page.on('request', (request) => {
    if (request.url().startsWith(callback)) returned = request.url();
  });
  await page.route(`${callback}**`, (route) => route.fulfill({
    status: 200, contentType: 'text/html', body: '<!doctype html><title>App</title><p>back at the app',
  }));
  return () => returned;
}

/** Opens `url` as a person does who clicks it in an e-mail. (`page.goto` would fail where the link
 * redirects to a callback nothing listens on.) */
export async function followLink(page, url) {
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  await page.setContent(`<!doctype html><title>Mail</title><a id="mailed-link" href="${href}">link</a>`);
  await clickAndLoad(page, '#mailed-link');
}

/** Clicks what `selector` finds (a button or link) and waits until the page it leads to has loaded. */
export async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForEvent('load'), page.locator(selector).click()]);
}

/** Fills the sign-in form's e-mail and password fields and submits it. */
export async function submitPassword(page, email, password) {
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await clickAndLoad(page, 'button[type=submit]');
}

/** The script's options and its other arguments: `--no-js` runs the pages without JavaScript;
 * `--lang=<code>` makes the browser prefer that language (its Accept-Language), and every reviewed page
 * must then be in it (`<html lang>`). */
export function scriptArguments() {
  const all = process.argv.slice(2);
  const lang = all.find((a) => a.startsWith('--lang='))?.slice('--lang='.length);
  return {
    javaScript: !all.includes('--no-js'),
    lang,
    options: { javaScript: !all.includes('--no-js'), lang },
    args: all.filter((a) => !a.startsWith('--')),
  };
}

/** The accessibility rules every page must pass: WCAG 2 A and AA, as axe-core checks them. Serious and
 * critical violations fail the script; lesser ones are printed. */
async function accessibilityProblems(page, name) {
  await page.addScriptTag({ path: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ')})` : ''}`),
    }));
  });
  const describe = (v) => `  ${name}: ${v.id} [${v.impact}] ${v.help}\n${v.nodes.map((n) => `    ${n}`).join('\n')}`;
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) console.error(`axe-core, not failing:\n${minor.map(describe).join('\n')}`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(describe);
}

/** What axe-core does not check but people need from a form (issue 6): every field a person types in
 * says what it holds (`autocomplete`, so password managers and phones can fill it), and code fields
 * bring up the number pad (`inputmode="numeric"`; a recovery code has letters). A factor's own name
 * (`name="label"`, free text about no one) is left out: no autocomplete purpose fits it. */
async function fieldProblems(page, name) {
  const fields = await page.locator('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]):not([hidden])').evaluateAll(
    (inputs) => inputs.map((i) => ({
      id: i.id, name: i.name, autocomplete: i.getAttribute('autocomplete'), inputmode: i.getAttribute('inputmode'),
      recovery: !!document.querySelector('input[name=method][value=recovery_code]'),
    })));
  return fields.flatMap((f) => [
    ...(f.autocomplete || f.name === 'label' ? [] : [`  ${name}: field #${f.id} (${f.name}) has no autocomplete attribute`]),
    ...(f.name === 'code' && !f.recovery && f.inputmode !== 'numeric' ? [`  ${name}: code field #${f.id} has no inputmode="numeric"`] : []),
  ]);
}

/** Whether keyboard focus shows: the first field (else button, else link) of the page, focused, has an
 * outline of at least 2px whose colour stands out 3:1 from the card behind it (WCAG 1.4.11). */
async function focusProblems(page, name) {
  const target = page.locator('main :is(input:not([type=hidden]), button, a):visible').first();
  if (await target.count() === 0) return [];
  await target.focus();
  const seen = await target.evaluate((element) => {
    const rgb = (colour) => colour.match(/[\d.]+/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
      const f = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const style = getComputedStyle(element);
    const card = getComputedStyle(element.closest('main') ?? document.body).backgroundColor;
    const [a, b] = [luminance(rgb(style.outlineColor)), luminance(rgb(card))].sort((x, y) => y - x);
    return { what: element.id || element.tagName.toLowerCase(), style: style.outlineStyle,
      width: parseFloat(style.outlineWidth), contrast: (a + 0.05) / (b + 0.05) };
  });
  await target.blur();
  if (seen.style === 'none' || seen.width < 2) return [`  ${name}: no visible focus outline on ${seen.what}`];
  if (seen.contrast < 3) return [`  ${name}: the focus outline on ${seen.what} stands out only ${seen.contrast.toFixed(2)}:1 from the card`];
  return [];
}

/**
 * Runs `steps({ page, review, newPage })` in a fresh headless Chromium.
 * - `page`: a tab in a fresh profile (no cookies).
 * - `review(name, tab = page)`: checks the page shown with axe-core (serious or critical problems fail
 *   the script, listed) and saves `<shots>/<name>-{desktop,phone}.png`.
 * - `newPage()`: a tab in another fresh profile, as a second browser would be.
 * With `lang`, the browser prefers that language and every page reviewed must be in it.
 * With `javaScript: false` the pages run without JavaScript; axe-core then checks the same HTML, with
 * the same style sheets, in a tab of its own that has JavaScript.
 */
export async function inChromium(shots, steps, { javaScript = true, lang } = {}) {
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  let checker = null;
  const newPage = async () => {
    // The pages' Content-Security-Policy allows only their own scripts; axe-core is let in.
    const context = await browser.newContext({
      viewport: DESKTOP, javaScriptEnabled: javaScript, bypassCSP: true, ...(lang ? { locale: lang } : {}),
    });
    const tab = await context.newPage();
    // A step that does not come within ten seconds has failed; say so while the test is still waiting.
    tab.setDefaultTimeout(10_000);
    return tab;
  };
  const problems = [];
  const review = async (name, tab = page) => {
    await tab.waitForLoadState('load');
    problems.push(...await fieldProblems(tab, name));
    const shown = await tab.locator('html').getAttribute('lang');
    if (lang && shown !== lang) problems.push(`  ${name}: the page is in ${shown}, not ${lang}`);
    if (javaScript) {
      problems.push(...await accessibilityProblems(tab, name));
    } else {
      checker ??= await (await browser.newContext({ viewport: DESKTOP })).newPage();
      const [url, html] = [tab.url(), await tab.content()];
      const same = (u) => u.href === url;
      await checker.route(same, (route) => route.fulfill({ contentType: 'text/html', body: html }));
      await checker.goto(url);
      problems.push(...await accessibilityProblems(checker, name));
      await checker.unroute(same);
    }
    await tab.setViewportSize(DESKTOP);
    await tab.screenshot({ path: `${shots}/${name}-desktop.png`, fullPage: true });
    await tab.setViewportSize(PHONE);
    // On a phone the page fits the screen's width: nothing to scroll sideways to.
    const wide = await tab.locator('html').evaluate((html) => html.scrollWidth);
    if (wide > PHONE.width) problems.push(`  ${name}: ${wide}px wide on a ${PHONE.width}px phone screen`);
    await tab.screenshot({ path: `${shots}/${name}-phone.png`, fullPage: true });
    await tab.setViewportSize(DESKTOP);
    problems.push(...await focusProblems(tab, name));
  };
  const page = await newPage();
  try {
    await steps({ page, review, newPage });
  } finally {
    input.close();
    await browser.close();
  }
  if (problems.length) {
    throw new Error(`the review found problems (axe-core's serious or critical, WCAG 2 A/AA; fields; phone width; focus; language):\n${problems.join('\n')}`);
  }
}
