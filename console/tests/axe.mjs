// axe-core (a pinned devDependency) run in the page on WCAG 2.0 and 2.1, levels A and AA. Its
// source goes in through page.evaluate: DevTools' evaluation is not subject to the page's
// Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval'), which a script tag would be, so
// the CSP under test stays the one the origin serves.
// Besides its violations, what axe leaves "incomplete" (to review by hand) for an ARIA rule counts
// too: an aria-describedby naming an element that is not there, an aria-label where it is not
// allowed. AXE_TAGS=best-practice (comma-separated tags) runs other rules, for a survey by hand.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The rule tags run: every WCAG 2.0 and 2.1 rule of level A and AA. */
export const WCAG_TAGS = (process.env.AXE_TAGS ?? 'wcag2a,wcag2aa,wcag21a,wcag21aa').split(',');

/** The page's violations as axe reports them (rule id, impact, help, its URL, the nodes' targets). */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(SOURCE);
  }
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    });
    const review = result.incomplete.filter((v) => v.id.startsWith('aria-'));
    return [...result.violations, ...review.map((v) => ({ ...v, review: true }))].map((v) => ({
      id: v.id,
      impact: v.review ? `${v.impact}, needs review` : v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.join(' ')),
      summaries: v.nodes.map((n) => n.failureSummary ?? ''),
    }));
  }, WCAG_TAGS);
}

/** One line per violation, then its targets: what a failing test prints. */
export function formatViolations(violations) {
  return violations
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n` +
        v.targets.map((t, i) => `    - ${t}\n      ${v.summaries[i].replace(/\n/g, '\n      ')}`).join('\n'),
    )
    .join('\n');
}
