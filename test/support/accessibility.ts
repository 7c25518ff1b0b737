import axe from 'axe-core';
import type { Page } from 'playwright-core';

/** One rule a page breaks, with where: the selectors of the elements that break it. */
export interface Violation {
  page: string;
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/** What a check of serious and critical impact is worth failing a page for (axe's two highest of four). */
export const BLOCKING_IMPACTS: readonly string[] = ['serious', 'critical'];

/**
 * Runs axe-core over the page as it is now and returns what it finds. The pages' CSP allows no
 * scripts at all, so the page must come from a browser context made with `bypassCSP: true`.
 */
export async function accessibilityViolations(page: Page, name = new URL(page.url()).pathname): Promise<Violation[]> {
  await page.addScriptTag({ content: axe.source });
  // Text, not a function: the function would run in the page, whose globals (axe, document) Node's types do not know.
  const results = await page.evaluate<axe.AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
  return results.violations.map((v) => ({
    page: name,
    rule: v.id,
    impact: v.impact ?? 'unknown',
    help: v.help,
    targets: v.nodes.map((node) => node.target.map(String).join(' ')),
  }));
}

/** Violations a person cannot work around, one line each: "page · rule (impact): help — targets". */
export function blocking(violations: readonly Violation[]): Violation[] {
  return violations.filter((v) => BLOCKING_IMPACTS.includes(v.impact));
}

export const describeViolations = (violations: readonly Violation[]): string =>
  violations.map((v) => `${v.page} · ${v.rule} (${v.impact}): ${v.help} — ${v.targets.slice(0, 5).join(', ')}${v.targets.length > 5 ? ` and ${v.targets.length - 5} more` : ''}`).join('\n');
