/**
 * The bench's service map part: on the 10,000-CI generated estate, a change on a shared hub (a core
 * network device, which most of the estate depends on) is submitted through the API and assessed
 * by its workflow; then headless Chromium, signed in as the requester, opens its impact map (the
 * picture beside the table) and the same page with the table alone (?view=table), in turns, and
 * each navigation is timed from its start to the load event (Navigation Timing), with the server's
 * part (request sent to first byte). The figure is the map's median over the table's: what the
 * picture costs over the plain table of the same CIs, measured in the same run.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { NODE_CAP } from '../api/web/service-map';
import { generateEstate } from '../scripts/generate-estate';
import { launchBrowser } from '../test/support/browser';

export interface ServiceMapBenchSettings {
  cis: number;
  /** Navigations of each page, after one of each to warm up. */
  runs: number;
}

export interface PageTimes {
  /** Navigation start to the load event, median and p95. */
  loadMedianMs: number;
  loadP95Ms: number;
  /** Request sent to its first byte: the server's part. */
  serverMedianMs: number;
  bytes: number;
}

export interface ServiceMapReport {
  cis: number;
  cisReached: number;
  boxes: number;
  groups: number;
  edges: number;
  nodeCap: number;
  map: PageTimes;
  table: PageTimes;
  /** map.loadMedianMs / table.loadMedianMs. */
  ratio: number;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const at = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];

function times(samples: { load: number; server: number; bytes: number }[]): PageTimes {
  const load = samples.map((s) => s.load).sort((a, b) => a - b);
  const server = samples.map((s) => s.server).sort((a, b) => a - b);
  return { loadMedianMs: round(at(load, 0.5)), loadP95Ms: round(at(load, 0.95)), serverMedianMs: round(at(server, 0.5)), bytes: samples[0].bytes };
}

export async function measureServiceMap(
  db: Knex,
  baseUrl: string,
  requester: { id: string; apiKey: string },
  settings: ServiceMapBenchSettings,
  step: (text: string) => void,
): Promise<ServiceMapReport> {
  step(`service map: a ${settings.cis.toLocaleString('en')}-CI estate, a change on its busiest hub ...`);
  const estate = await generateEstate(db, { cis: settings.cis, seed: 42, prefix: `map-bench-${randomBytes(3).toString('hex')}-` });
  const res = await fetch(`${baseUrl}/changes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'normal', title: 'Benchmark: replace the core switch', affectedCiIds: [estate.hubIds[0]] }),
  });
  if (res.status !== 201) throw new Error(`submitting the hub change answered ${res.status}`);
  const change = (await res.json()) as { id: string; number: string };
  let cisReached = 0;
  for (let waited = 0; !cisReached; waited += 200) {
    if (waited > 60_000) throw new Error(`${change.number} was not assessed within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const row = await db('change_requests').where({ id: change.id }).first('impact');
    cisReached = (row?.impact as { services?: { cisReached: number } } | null)?.services?.cisReached ?? 0;
  }

  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/ui/sign-in`);
    await page.getByLabel('API key', { exact: true }).fill(requester.apiKey);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/ui/sign-in'));

    const mapUrl = `${baseUrl}/ui/changes/${change.number}/impact-map`;
    const visit = async (url: string) => {
      const answer = await page.goto(url, { waitUntil: 'load' });
      if (answer?.status() !== 200) throw new Error(`${url} answered ${answer?.status()}`);
      // Run in the page (a string: this project compiles without the DOM's types).
      return page.evaluate<{ load: number; server: number; bytes: number }>(`(() => {
        const [nav] = performance.getEntriesByType('navigation');
        return { load: nav.loadEventEnd - nav.startTime, server: nav.responseStart - nav.requestStart, bytes: nav.decodedBodySize };
      })()`);
    };
    const samples = { map: [] as Awaited<ReturnType<typeof visit>>[], table: [] as Awaited<ReturnType<typeof visit>>[] };
    await visit(mapUrl);
    await visit(`${mapUrl}?view=table`);
    step(`service map: ${settings.runs} loads of the impact map and of its table alone, in turns (${cisReached} CIs reached) ...`);
    for (let i = 0; i < settings.runs; i++) {
      samples.map.push(await visit(mapUrl));
      samples.table.push(await visit(`${mapUrl}?view=table`));
    }
    await visit(mapUrl);
    const drawn = {
      boxes: await page.locator('#impact svg a.node:not(.cluster)').count(),
      groups: await page.locator('#impact svg a.node.cluster').count(),
      edges: await page.locator('#impact svg path.edge').count(),
    };
    const map = times(samples.map);
    const table = times(samples.table);
    return { cis: settings.cis, cisReached, ...drawn, nodeCap: NODE_CAP, map, table, ratio: round(map.loadMedianMs / table.loadMedianMs, 2) };
  } finally {
    await browser.close();
  }
}

export function reportServiceMap(r: ServiceMapReport): void {
  console.log(`\n== Service map of a change on a hub of the ${r.cis.toLocaleString('en')}-CI estate, in Chromium: ${r.cisReached} CIs reached, ` +
    `${r.boxes} drawn on their own (cap ${r.nodeCap}), ${r.groups} groups, ${r.edges} edges — figure: the map's load time over the table's`);
  console.table([
    { page: 'impact map (picture and table)', 'load median ms': r.map.loadMedianMs, 'load p95 ms': r.map.loadP95Ms, 'server median ms': r.map.serverMedianMs, KB: round(r.map.bytes / 1024) },
    { page: 'the table alone (?view=table)', 'load median ms': r.table.loadMedianMs, 'load p95 ms': r.table.loadP95Ms, 'server median ms': r.table.serverMedianMs, KB: round(r.table.bytes / 1024) },
  ]);
  console.log(`impact map / table: ${r.ratio}x`);
}
