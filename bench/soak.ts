import fs from 'node:fs';
import path from 'node:path';
import { axisMax } from '../api/web/chart';
import { html, join } from '../api/web/html';
import { projectRoot } from '../platform/project-root';
import { ApiClient, driveChange, drivePurchase, prepareCast, verify, type Cast, type DriveOptions, type Driven } from '../test/support/fault-processes';
import { residentBytes, startFaultStack, type FaultStack } from '../test/support/fault-stack';

/**
 * `npm run soak` (not in CI): SOAK_MINUTES (10) of mixed load through the API on its own
 * Postgres, Temporal dev server and SMTP sink: changes submitted, approved, implemented (every
 * third failing and reviewed), purchases approved, ordered and received, every other process
 * decided with the emailed link and the rest through the API, and reads of lists, the inbox and
 * details, while one of two worker processes is SIGKILLed every SOAK_KILL_EVERY seconds (30) and
 * replaced. It prints the requests, the errors by status and code, the doubled writes (audit
 * steps, approvals, emails, assets per natural key) and the API's and workers' memory over time,
 * as a chart in the terminal and as an SVG in bench-results/.
 */

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SETTINGS = {
  minutes: setting('SOAK_MINUTES', 10),
  lanes: setting('SOAK_LANES', 4),
  readers: setting('SOAK_READERS', 2),
  killEverySeconds: setting('SOAK_KILL_EVERY', 30),
  workers: 2,
  sampleSeconds: setting('SOAK_SAMPLE_EVERY', 5),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text: string) => process.stdout.write(`${text}\n`);
const megabytes = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round((bytes / 1024 / 1024) * 10) / 10);

interface Sample {
  seconds: number;
  apiMb?: number;
  workerMb?: number;
}

interface Series {
  name: string;
  points: [number, number][];
}

/** Series as a character grid: one mark per series, time across, megabytes up. */
function asciiChart(series: Series[], width = 72, height = 11): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '(no samples)';
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = axisMax(Math.max(...all.map(([, y]) => y)));
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  const marks = ['A', 'W', '*'];
  series.forEach((s, i) => {
    for (const [x, y] of s.points) {
      const col = Math.min(width - 1, Math.round((x / maxX) * (width - 1)));
      const row = height - 1 - Math.min(height - 1, Math.round((y / maxY) * (height - 1)));
      grid[row][col] = marks[i];
    }
  });
  const label = (row: number) => String(Math.round(((height - 1 - row) / (height - 1)) * maxY)).padStart(6);
  const lines = grid.map((cells, row) => `${row % 5 === 0 ? label(row) : '      '} |${cells.join('')}`);
  lines.push(`       +${'-'.repeat(width)}`);
  lines.push(`        0 s${' '.repeat(Math.max(1, width - 12))}${Math.round(maxX)} s`);
  lines.push(`        ${series.map((s, i) => `${marks[i]} = ${s.name}`).join('   ')}   (MB resident)`);
  return lines.join('\n');
}

/** The same series as an SVG line chart, written with the web UI's escaping template. */
function svgChart(series: Series[], title: string, width = 760, height = 300): string {
  const margin = { top: 30, right: 16, bottom: 44, left: 52 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = axisMax(Math.max(0, ...all.map(([, y]) => y)));
  const round = (n: number) => Math.round(n * 10) / 10;
  const x = (v: number) => round(margin.left + (v / maxX) * plotW);
  const y = (v: number) => round(margin.top + plotH - (v / maxY) * plotH);
  const colours = ['#1f6feb', '#d1242f', '#2da44e'];
  const ticks = [0, maxY / 2, maxY].map(
    (v) => html`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${round(v)}</text>`,
  );
  const lines = series.map(
    (s, i) => html`<polyline fill="none" stroke="${colours[i]}" stroke-width="2" points="${s.points.map(([px, py]) => `${x(px)},${y(py)}`).join(' ')}"><title>${s.name}</title></polyline>`,
  );
  const legend = series.map(
    (s, i) => html`<rect x="${margin.left + i * 220}" y="${height - 14}" width="12" height="4" fill="${colours[i]}"/><text x="${margin.left + i * 220 + 16}" y="${height - 9}" font-size="11">${s.name}</text>`,
  );
  const description = series.map((s) => `${s.name}: ${s.points.map(([px, py]) => `${px} s ${py} MB`).join(', ')}`).join('; ');
  return html`<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif">
<title>${title}</title>
<desc>${description}</desc>
<text x="${margin.left}" y="18" font-size="13">${title}</text>
${join(ticks, '\n')}
${join(lines, '\n')}
<text x="${width - margin.right}" y="${height - margin.bottom + 16}" text-anchor="end" font-size="11">${Math.round(maxX)} s</text>
<text x="${margin.left}" y="${height - margin.bottom + 16}" font-size="11">0 s</text>
${join(legend, '\n')}
</svg>
`.toString();
}

/** The reads people do all day: lists, the inbox, details of what they are working on. */
async function readLoop(api: ApiClient, cast: Cast, driven: Driven[], until: number): Promise<void> {
  const reads = [
    () => api.call(cast.processOwner.apiKey, 'GET', '/processes?limit=50'),
    () => api.call(cast.processOwner.apiKey, 'GET', '/changes?limit=20'),
    () => api.call(cast.processOwner.apiKey, 'GET', '/purchase-requests?limit=20'),
    () => api.call(cast.manager.apiKey, 'GET', '/approvals'),
    () => {
      const known = driven.filter((d) => d.workflowId);
      const one = known[Math.floor(Math.random() * known.length)];
      return one ? api.call(cast.processOwner.apiKey, 'GET', `/processes/${encodeURIComponent(one.workflowId!)}`) : api.call(cast.processOwner.apiKey, 'GET', '/processes?limit=10');
    },
  ];
  for (let i = 0; Date.now() < until; i++) {
    await reads[i % reads.length]();
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const until = started + SETTINGS.minutes * 60_000;
  say(`• soak: ${SETTINGS.minutes} min, ${SETTINGS.lanes} lanes of changes and purchases, ${SETTINGS.readers} readers, ${SETTINGS.workers} workers, one SIGKILLed every ${SETTINGS.killEverySeconds} s`);
  const stack: FaultStack = await startFaultStack({ workers: SETTINGS.workers, logLevel: 'error' });
  try {
    const cast = await prepareCast(stack.db);
    const writes = new ApiClient(stack.baseUrl);
    const reads = new ApiClient(stack.baseUrl);
    const driven: Driven[] = [];
    const options: DriveOptions = { api: writes, db: stack.db, cast, deadlineMs: 180_000, pollMs: 300, track: (d) => driven.push(d) };

    const samples: Sample[] = [];
    const sample = () => {
      const workers = stack.workers.pids.map(residentBytes).filter((b): b is number => b !== undefined);
      samples.push({
        seconds: Math.round((Date.now() - started) / 1000),
        apiMb: megabytes(residentBytes(stack.api.pid)),
        workerMb: workers.length ? megabytes(Math.max(...workers)) : undefined,
      });
    };
    sample();
    const sampler = setInterval(sample, SETTINGS.sampleSeconds * 1000);
    const kills: string[] = [];
    const killer = setInterval(() => {
      void stack.workers.killOne().then((pid) => kills.push(`${Math.round((Date.now() - started) / 1000)} s: pid ${pid}`));
    }, SETTINGS.killEverySeconds * 1000);
    const progress = setInterval(() => {
      const done = driven.filter((d) => d.finishedAt).length;
      say(`  ${Math.round((Date.now() - started) / 1000)} s: ${driven.length} processes started, ${done} done, ${writes.requests + reads.requests} requests, ${stack.workers.kills} worker kills`);
    }, 30_000);

    let n = 0;
    const lane = async () => {
      while (Date.now() < until) {
        const i = n++;
        const tag = `s${started.toString(36).slice(-4)}${i}`;
        // Every other process is decided with the emailed link, the rest through the API.
        const decideByLink = i % 2 === 1 ? stack.sink : undefined;
        if (i % 3 === 0) await drivePurchase({ ...options, decideByLink }, tag);
        else await driveChange({ ...options, decideByLink, failImplementation: i % 3 === 2 }, tag);
      }
    };
    await Promise.all([
      ...Array.from({ length: SETTINGS.lanes }, lane),
      ...Array.from({ length: SETTINGS.readers }, () => readLoop(reads, cast, driven, until)),
    ]);
    clearInterval(killer);
    clearInterval(progress);
    sample();
    clearInterval(sampler);

    say(`• load done after ${Math.round((Date.now() - started) / 1000)} s; checking what it left behind ...`);
    const verdict = await verify(stack.db, stack.sink, driven, { repeatsHarmless: true, mailDeadlineMs: 60_000 });
    const answers = new Map<string, number>();
    for (const client of [writes, reads]) for (const [label, count] of client.answers) answers.set(label, (answers.get(label) ?? 0) + count);
    const errors = [...answers].filter(([label]) => !/^2\d\d$/.test(label)).sort((a, b) => b[1] - a[1]);

    say('\n=== soak results ===');
    say(`duration: ${Math.round((Date.now() - started) / 1000)} s; processes: ${driven.length} (${driven.filter((d) => d.kind === 'change').length} changes, ${driven.filter((d) => d.kind === 'purchase').length} purchases), ${driven.filter((d) => d.finalState === d.expectedFinalState).length} reached their final state`);
    say(`requests: ${writes.requests + reads.requests} (${writes.requests} by the processes, ${reads.requests} reads); answers: ${[...answers].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${label}×${count}`).join(' ')}`);
    say(`errors: ${errors.length ? errors.map(([label, count]) => `${label}×${count}`).join(' ') : 'none'}`);
    say(`worker SIGKILLs: ${stack.workers.kills} (${kills.join('; ') || 'none'}); worker exits on their own: ${stack.workers.unexpectedExits}; API ${stack.api.exitCode === null ? 'still running' : `exited with ${stack.api.exitCode}`}`);
    for (const line of verdict.lines) say(`checked: ${line}`);
    const { doubled } = verdict;
    say(`doubled writes: ${doubled.auditSteps} audit steps, ${doubled.approvals} approvals, ${doubled.notices} email notices, ${doubled.assets} assets; ${doubled.deliveries} notices delivered again with the same Message-ID (harmless)`);
    say(`problems: ${verdict.problems.length}`);
    for (const problem of verdict.problems.slice(0, 40)) say(`  ${problem}`);
    if (verdict.problems.length > 40) say(`  ... and ${verdict.problems.length - 40} more`);

    const series: Series[] = [
      { name: 'API RSS', points: samples.filter((s) => s.apiMb !== undefined).map((s) => [s.seconds, s.apiMb!]) },
      { name: 'worker RSS (largest)', points: samples.filter((s) => s.workerMb !== undefined).map((s) => [s.seconds, s.workerMb!]) },
    ];
    say('\nmemory over time:');
    say(asciiChart(series));
    const resultsDir = path.join(projectRoot(), 'bench-results');
    fs.mkdirSync(resultsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const svgPath = path.join(resultsDir, `soak-${stamp}.svg`);
    fs.writeFileSync(svgPath, svgChart(series, `assetflow soak: resident memory over ${SETTINGS.minutes} min with a worker SIGKILLed every ${SETTINGS.killEverySeconds} s (MB)`));
    fs.writeFileSync(path.join(resultsDir, `soak-${stamp}.json`), JSON.stringify({ settings: SETTINGS, answers: Object.fromEntries(answers), kills, checks: verdict.lines, problems: verdict.problems, samples }, null, 2));
    say(`\nchart: ${svgPath}`);
    process.exitCode = verdict.problems.length ? 1 : 0;
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
