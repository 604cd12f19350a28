// The review itself under test: a page with grey-on-white text, a field without a label, autocomplete or
// focus outline, a code field without the number pad and a paragraph too wide for a phone, served at a
// Gatehouse URL with Gatehouse's style sheet, must fail the review, naming each. Driven by tests/e2e/browser.rs:
//   node review_check.mjs <Gatehouse URL> <style sheet URL> <screenshot dir>
// It prints "DONE <the reason the review gave, as a JSON string>", or "DONE passed" when the review
// found nothing.
import { done, inChromium, scriptArguments } from './common.mjs';

const { args: [url, css, shots] } = scriptArguments();
const page = `<!doctype html><html lang="en"><head><title>Broken</title><link rel="stylesheet" href="${css}"></head>
<body><main class="card"><h1>Broken</h1><p style="color:#c8c8c8">Pale grey on white</p>
<p style="width:600px">A paragraph wider than a phone's screen</p>
<form><input id="nameless" type="text" style="outline:none"><label for="code">Code</label><input id="code" name="code" autocomplete="one-time-code"></form></main></body></html>`;
try {
  await inChromium(shots, async ({ page: tab, review }) => {
    await tab.route(url, (route) => route.fulfill({ contentType: 'text/html', body: page }));
    await tab.goto(url);
    await review('broken');
  });
  done('passed');
} catch (e) {
  done(JSON.stringify(e.message));
}
