// What every browser script shares: headless Chromium as CI runs it, questions answered by the Rust
// test on stdin, and screenshots at desktop and phone width.
import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();

/** Prints `question` for the test and returns its one-line answer. */
export async function ask(question) {
  console.log(question);
  const { value } = await lines.next();
  return value.trim();
}

/** Runs `steps(page, shot)` in a fresh headless Chromium; `shot(name)` saves `<dir>/<name>-{desktop,phone}.png`. */
export async function inChromium(shots, steps) {
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const shot = async (name) => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: `${shots}/${name}-desktop.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${shots}/${name}-phone.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
    };
    await steps(page, shot);
  } finally {
    input.close();
    await browser.close();
  }
}
