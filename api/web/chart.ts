import { html, join, type SafeHtml } from './html';

export interface WeekThroughput {
  /** ISO week, e.g. 2026-W48. */
  week: string;
  started: number;
  finished: number;
}

/** Sums the per-process throughput rows of the dashboard into one row per week, in week order. */
export function throughputByWeek(rows: { week: string; started: number; finished: number }[]): WeekThroughput[] {
  const weeks = new Map<string, WeekThroughput>();
  for (const row of rows) {
    const week = weeks.get(row.week) ?? { week: row.week, started: 0, finished: 0 };
    week.started += row.started;
    week.finished += row.finished;
    weeks.set(row.week, week);
  }
  return [...weeks.values()].sort((a, b) => a.week.localeCompare(b.week));
}

/** A round upper bound for the axis: 1, 2, 5, 10, 20, 50, ... */
export function axisMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/**
 * Started and finished processes per week as an inline SVG bar chart: two bars a week, each
 * with its number written above it (so that neither colour nor a hover is needed to read it),
 * a legend in text, and a title and description for screen readers. The page shows the same
 * figures in a table.
 */
export function throughputChart(weeks: WeekThroughput[], options: { id?: string; width?: number; height?: number } = {}): SafeHtml {
  const id = options.id ?? 'throughput-chart';
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const margin = { top: 28, right: 12, bottom: 40, left: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const max = axisMax(Math.max(0, ...weeks.flatMap((w) => [w.started, w.finished])));
  const slot = weeks.length ? plotW / weeks.length : plotW;
  const barW = Math.max(4, Math.min(28, slot / 3));
  const y = (value: number) => margin.top + plotH - (value / max) * plotH;
  const round = (n: number) => Math.round(n * 10) / 10;

  const ticks = [0, max / 2, max].map((value) => {
    const ty = round(y(value));
    const tick = Number.isInteger(value) ? value : value.toFixed(1);
    return join([
      html`<line x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" class="grid"/>`,
      html`<text x="${margin.left - 6}" y="${ty + 4}" text-anchor="end" class="tick">${tick}</text>`,
    ]);
  });
  const bars = weeks.map((w, i) => {
    const x0 = margin.left + i * slot + (slot - 2 * barW - 4) / 2;
    const bar = (value: number, x: number, kind: 'started' | 'finished') => {
      const top = round(y(value));
      const h = round(margin.top + plotH - top);
      return join([
        html`<rect x="${round(x)}" y="${top}" width="${round(barW)}" height="${h}" class="bar ${kind}"><title>${w.week}: ${value} ${kind}</title></rect>`,
        html`<text x="${round(x + barW / 2)}" y="${top - 4}" text-anchor="middle" class="value">${value}</text>`,
      ]);
    };
    const label = w.week.replace(/^\d{4}-/, '');
    const weekLabel = html`<text x="${round(margin.left + i * slot + slot / 2)}" y="${height - margin.bottom + 16}" text-anchor="middle" class="tick">${label}</text>`;
    return html`<g>${bar(w.started, x0, 'started')}${bar(w.finished, x0 + barW + 4, 'finished')}${weekLabel}</g>`;
  });
  const totalStarted = weeks.reduce((sum, w) => sum + w.started, 0);
  const totalFinished = weeks.reduce((sum, w) => sum + w.finished, 0);
  const description = weeks.length
    ? `${weeks.length} weeks from ${weeks[0].week} to ${weeks[weeks.length - 1].week}: ${totalStarted} started, ${totalFinished} finished. ` +
      weeks.map((w) => `${w.week}: ${w.started} started, ${w.finished} finished`).join('; ') + '.'
    : 'No weeks to show.';
  const legendY = height - 8;
  return html`<svg id="${id}" class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-labelledby="${id}-title ${id}-desc">
<title id="${id}-title">Processes started and finished per week</title>
<desc id="${id}-desc">${description}</desc>
${join(ticks, '\n')}
${join(bars, '\n')}
<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" class="axis"/>
<rect x="${margin.left}" y="${legendY - 10}" width="12" height="12" class="bar started"/><text x="${margin.left + 16}" y="${legendY}" class="tick">started (left bar)</text>
<rect x="${margin.left + 150}" y="${legendY - 10}" width="12" height="12" class="bar finished"/><text x="${margin.left + 166}" y="${legendY}" class="tick">finished (right bar)</text>
</svg>`;
}

export type BarTone = 'ok' | 'warning' | 'over';

export interface Bar {
  label: string;
  /** The bar's length; only drawn, never shown as a figure. */
  value: number;
  /** The figure or words written beside the bar, exact (so that neither colour nor length is needed to read it). */
  text: string;
  /** Where the bar stands, as its fill; none: the chart's one colour. */
  tone?: BarTone;
}

/** Fills as presentation attributes: the page's stylesheet need not know them. */
const TONE_FILL: Record<BarTone, string> = { ok: '#1a7f37', warning: '#9a6700', over: '#cf222e' };

/**
 * Exact decimal text (money as decimal or minor units, a count) as a bar's length. Only drawn, so
 * the nearest float is enough; the figure written beside the bar is the exact text. Not a number: 0.
 */
export function barLength(text: string): number {
  const value = Number(text);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Labelled bars laid across as an inline SVG, one a row: the label on the left, the bar, and its
 * exact figure or words on the right; a title, and a description that lists every bar for screen
 * readers (the page shows the same in a table). The bars are scaled to `max` (default: the largest;
 * longer ones are drawn to the edge and their words say the rest); `markers` are vertical lines at
 * given values, each named above the plot (80% and 100% of a budget).
 */
export function barChart(
  bars: readonly Bar[],
  options: { id: string; title: string; description?: string; max?: number; markers?: { at: number; label: string }[]; width?: number },
): SafeHtml {
  const width = options.width ?? 720;
  const row = 24;
  const hasMarkers = (options.markers ?? []).length > 0;
  const margin = { top: hasMarkers ? 28 : 8, right: 190, bottom: 8, left: 220 };
  const height = margin.top + margin.bottom + Math.max(1, bars.length) * row;
  const plotW = width - margin.left - margin.right;
  const max = options.max ?? Math.max(0, ...bars.map((b) => b.value));
  const round = (n: number) => Math.round(n * 10) / 10;
  const x = (value: number) => round(margin.left + (max > 0 ? (Math.max(0, Math.min(value, max)) / max) * plotW : 0));
  const short = (text: string) => (text.length > 30 ? `${text.slice(0, 29)}…` : text);
  const rows = bars.map((bar, i) => {
    const top = margin.top + i * row + 4;
    const fill = bar.tone ? html` fill="${TONE_FILL[bar.tone]}"` : html` class="bar started"`;
    return html`<g><text x="${margin.left - 6}" y="${top + 12}" text-anchor="end" class="tick">${short(bar.label)}</text>
<rect x="${margin.left}" y="${top}" width="${round(x(bar.value) - margin.left)}" height="${row - 8}"${fill}><title>${bar.label}: ${bar.text}</title></rect>
<text x="${width - margin.right + 6}" y="${top + 12}" class="value">${bar.text}</text></g>`;
  });
  const markers = (options.markers ?? []).map((m) => html`<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${margin.top - 6}" y2="${height - margin.bottom}" class="axis" stroke-dasharray="4 3"/>
<text x="${x(m.at)}" y="${margin.top - 10}" text-anchor="middle" class="tick">${m.label}</text>`);
  const description = options.description ?? (bars.length ? `${bars.map((b) => `${b.label}: ${b.text}`).join('; ')}.` : 'Nothing to show.');
  return html`<svg id="${options.id}" class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-labelledby="${`${options.id}-title`} ${`${options.id}-desc`}">
<title id="${`${options.id}-title`}">${options.title}</title>
<desc id="${`${options.id}-desc`}">${description}</desc>
<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top - 4}" y2="${height - margin.bottom}" class="axis"/>
${join(rows, '\n')}
${join(markers, '\n')}
</svg>`;
}

/**
 * Money compared across rows of several currencies: one chart per currency (amounts of different
 * currencies on one scale would compare what cannot be compared), in the rows' order, each with the
 * id `${id}-${currency in lower case}` and the title `${title} (${currency})`.
 */
export function barChartsByCurrency(rows: readonly { label: string; currency: string; amount: string }[], options: { id: string; title: string }): SafeHtml {
  const currencies = [...new Set(rows.map((r) => r.currency))];
  return join(currencies.map((currency) => barChart(
    rows.filter((r) => r.currency === currency).map((r) => ({ label: r.label, value: barLength(r.amount), text: `${currency} ${r.amount}` })),
    { id: `${options.id}-${currency.toLowerCase()}`, title: `${options.title} (${currency})` },
  )), '\n');
}
