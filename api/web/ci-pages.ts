/**
 * Configuration items and the service map, for everyone signed in: the CI list (search by name,
 * class, business service, criticality, status), a CI's page (details, relationships both ways,
 * the asset behind it, the changes that name it and the viewer may see, its neighbourhood map), a
 * bigger neighbourhood map with a depth choice, and a change's impact map: the CIs its
 * assessment's walk reaches, by depth, up to the business services, as a picture
 * (api/web/service-map.ts) beside a table that lists every one of them, a page at a time (a hub
 * reaches thousands). `?view=table` gives the same page of the table alone.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { CRITICALITIES } from '../../domain/change-impact';
import { DEFAULT_IMPACT_DEPTH } from '../../model/change-impact';
import { findChangeRow } from '../../model/changes';
import { CI_CLASSES } from '../../model/master-data/configuration-items';
import {
  MAX_NEIGHBOURHOOD_DEPTH,
  NEIGHBOURHOOD_LIMIT,
  changeImpactGraph,
  ciDetail,
  ciNeighbourhood,
  findCisByRef,
  listCis,
  listServices,
  type CiSummary,
  type PlacedCi,
  type PlacedEdge,
} from '../../model/service-map';
import { findAsset } from '../../model/assets';
import { maySeeRequest } from '../auth';
import { canSeeAsset } from '../routes/assets';
import { html, join, sendHtml, type SafeHtml } from './html';
import { dataSourcesOf, dataSourcesSection, discoveryBadge } from './inventory-pages';
import { mergesOf } from '../../model/reconciliation/cases';
import { str } from './forms';
import type { WebKit, WebRoute } from './router';
import { classLabel, criticalityText, renderServiceMap, serviceMapLegend, type MapGraph } from './service-map';
import { errorPage, isOverseer, label, layout, pager, queryString, time, type ViewContext } from './views';

export const CI_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/cis', access: 'signed_in' },
  { method: 'get', path: '/cis/:ref', access: 'signed_in' },
  { method: 'get', path: '/cis/:ref/map', access: 'signed_in' },
  // Whoever may see the change (its requester, its approvers, the overseers); others get a 403 page.
  { method: 'get', path: '/changes/:id/impact-map', access: 'signed_in' },
];

const STATUSES = ['operational', 'non_operational', 'repair_in_progress', 'retired'] as const;

export const ciHref = (ci: Pick<CiSummary, 'number'>) => `/ui/cis/${encodeURIComponent(ci.number)}`;
const changeHref = (number: string) => `/ui/changes/${encodeURIComponent(number)}`;

const listQuery = z.object({
  q: z.string().trim().max(200).optional(),
  class: z.enum(CI_CLASSES).optional().catch(undefined),
  status: z.enum(STATUSES).optional().catch(undefined),
  criticality: z.enum(CRITICALITIES).optional().catch(undefined),
  service: z.uuid().optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});

const firstOf = (query: Request['query']) => Object.fromEntries(Object.entries(query).map(([k, v]) => [k, str(v) || undefined]));

function options(values: readonly string[], chosen: string | undefined, text: (v: string) => string = label): SafeHtml {
  return html`<option value="">any</option>${values.map((v) => html`<option value="${v}"${v === chosen && html` selected`}>${text(v)}</option>`)}`;
}

function ciCell(ci: Pick<CiSummary, 'number' | 'name'>): SafeHtml {
  return html`<a href="${ciHref(ci)}">${ci.name}</a> <span class="meta">${ci.number}</span>`;
}

// ---------------------------------------------------------------------------------------------
// The pictures: a graph from placed CIs, and the table beside it
// ---------------------------------------------------------------------------------------------

function mapGraphOf(cis: PlacedCi[], edges: PlacedEdge[], changedIds: Set<string>): MapGraph {
  return {
    nodes: cis.map((c) => ({ id: c.id, href: ciHref(c), name: c.name, ciClass: c.ciClass, criticality: c.criticality, depth: c.depth, changed: changedIds.has(c.id) })),
    edges,
  };
}

/** Each CI's neighbours one depth nearer the start: what it was reached through. */
function throughOf(cis: PlacedCi[], edges: PlacedEdge[]): Map<string, PlacedCi[]> {
  const byId = new Map(cis.map((c) => [c.id, c]));
  const through = new Map<string, PlacedCi[]>();
  for (const e of edges) {
    const [far, near] = byId.get(e.from)!.depth > 0 ? [e.from, e.to] : [e.to, e.from];
    const list = through.get(far) ?? [];
    list.push(byId.get(near)!);
    through.set(far, list);
  }
  return through;
}

const THROUGH_SHOWN = 3;

/** The table's order: by depth, then class (so a group of the picture is one run of rows), then name. */
const tableOrder = (a: PlacedCi, b: PlacedCi) => a.depth - b.depth || a.ciClass.localeCompare(b.ciClass) || a.name.localeCompare(b.name) || a.number.localeCompare(b.number);

/** Where the picture's group of a depth and class starts in the table (its first row's id). */
const groupAnchor = (depth: number, ciClass: string) => `depth-${depth}-${ciClass}`;

/**
 * CIs of a map in the table's order (all of a neighbourhood; a page of an impact), one tbody per
 * depth; the first row of each class at a depth is the anchor a group of the picture links to.
 */
function placedTable(rows: PlacedCi[], through: Map<string, PlacedCi[]>, caption: string, depthWord: string): SafeHtml {
  const depths = [...new Set(rows.map((c) => c.depth))];
  const anchored = new Set<string>();
  const bodies = depths.map((depth) => {
    const trs = rows.filter((c) => c.depth === depth).map((c) => {
      const anchor = groupAnchor(c.depth, c.ciClass);
      const id = !anchored.has(anchor) && html` id="${anchor}"`;
      anchored.add(anchor);
      const via = through.get(c.id) ?? [];
      const shown = via.slice(0, THROUGH_SHOWN).map(ciCell);
      return html`<tr${id}><th scope="row">${ciCell(c)}</th><td>${classLabel(c.ciClass)}</td><td class="num">${c.depth}</td><td>${via.length ? join(shown, ', ') : html`<span class="meta">—</span>`}${via.length > THROUGH_SHOWN && html` <span class="meta">and ${via.length - THROUGH_SHOWN} more</span>`}</td><td>${criticalityText(c.criticality)}</td><td>${label(c.operationalStatus)}</td></tr>`;
    });
    return html`<tbody id="${`depth-${depth}`}">${join(trs, '\n')}</tbody>`;
  });
  return html`<table class="reached" id="reached">
<caption>${caption}</caption>
<thead><tr><th scope="col">CI</th><th scope="col">Class</th><th scope="col" class="num">${depthWord}</th><th scope="col">Reached through</th><th scope="col">Criticality</th><th scope="col">Status</th></tr></thead>
${join(bodies, '\n')}
</table>`;
}

/** A whole neighbourhood's table (NEIGHBOURHOOD_LIMIT bounds it). */
const neighbourhoodTable = (cis: PlacedCi[], edges: PlacedEdge[], caption: string) => placedTable([...cis].sort(tableOrder), throughOf(cis, edges), caption, 'Depth');

interface MapSectionOptions {
  id: string;
  title: string;
  description: string;
  heading: string;
  /** Where a group's CIs are listed; by default its anchor on this page. */
  clusterHref?: (depth: number, ciClass: string) => string;
}

function mapSection(graph: MapGraph, options: MapSectionOptions): SafeHtml {
  const { svg, drawn } = renderServiceMap(graph, { ...options, clusterHref: options.clusterHref ?? ((depth, ciClass) => `#${groupAnchor(depth, ciClass)}`) });
  const classes = CI_CLASSES.filter((c) => graph.nodes.some((n) => n.ciClass === c));
  const grouped = drawn.clustered > 0 && html`<p class="meta" id="${`${options.id}-grouped`}">${drawn.nodes.length} CIs are drawn on their own; the other ${drawn.clustered} are grouped by depth and class (${drawn.clusters.length} groups). The table lists every one; a group links to its rows.</p>`;
  return html`<section aria-labelledby="${`${options.id}-heading`}">
<h2 id="${`${options.id}-heading`}">${options.heading}</h2>
${grouped}
${serviceMapLegend(classes)}
${svg}
</section>`;
}

/**
 * An impact map's table holds this many rows a page: a hub of the 10,000-CI estate reaches about
 * 2,500 CIs, 830 KB as one table, and a bigger estate more. The picture shows them all (grouped);
 * its groups and the depth list link to the page and row where their CIs start.
 */
export const IMPACT_ROWS_PER_PAGE = 200;

const impactQuery = z.object({
  view: z.enum(['table']).optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(IMPACT_ROWS_PER_PAGE).catch(IMPACT_ROWS_PER_PAGE),
  offset: z.coerce.number().int().min(0).catch(0),
});

/** Links to where a depth, or a group of a depth and class, starts in a paged table of `rows`. */
function tablePlaces(rows: PlacedCi[], limit: number, offset: number, href: (offset: number) => string) {
  const first = new Map<string, number>();
  rows.forEach((c, i) => {
    for (const key of [`${c.depth}`, groupAnchor(c.depth, c.ciClass)]) if (!first.has(key)) first.set(key, i);
  });
  const at = (key: string, anchor: string) => {
    const page = Math.floor((first.get(key) ?? 0) / limit) * limit;
    return `${page === offset ? '' : href(page)}#${anchor}`;
  };
  return {
    depth: (depth: number) => at(`${depth}`, `depth-${depth}`),
    group: (depth: number, ciClass: string) => at(groupAnchor(depth, ciClass), groupAnchor(depth, ciClass)),
  };
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

export function registerCiPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  /** The CI a path names; a name several classes share lists them; none is a 404 page. */
  async function ciOf(req: Request, res: Response, ctx: ViewContext): Promise<CiSummary | undefined> {
    const ref = String(req.params.ref);
    const found = await findCisByRef(db, ref);
    if (found.length === 1) return found[0];
    if (!found.length) {
      sendHtml(res, 404, errorPage(ctx, 'No such CI', `There is no configuration item ${ref}.`, [['/ui/cis', 'Find a CI']]));
      return undefined;
    }
    sendHtml(res, 300, layout(ctx, `CIs called ${ref}`, html`<h1>Several CIs are called ${ref}</h1>
<ul>${found.map((ci) => html`<li>${ciCell(ci)} (${classLabel(ci.ciClass)})</li>`)}</ul>`));
    return undefined;
  }

  router.get('/cis', async (req, res) => {
    const ctx = await kit.context(res, 'cis');
    const query = listQuery.parse(firstOf(req.query));
    const [result, services] = await Promise.all([
      listCis(db, { q: query.q, ciClass: query.class, status: query.status, criticality: query.criticality, serviceId: query.service }, query),
      listServices(db),
    ]);
    const values = { q: query.q, class: query.class, status: query.status, criticality: query.criticality, service: query.service };
    const rows = result.items.map((ci) => html`<tr><th scope="row">${ciCell(ci)}</th><td>${classLabel(ci.ciClass)}</td><td>${criticalityText(ci.criticality)}</td><td>${label(ci.operationalStatus)}</td><td>${ci.environment}</td><td>${ci.ownerName ?? ''}</td><td>${ci.assetTag ? html`<a href="${`/ui/assets/${encodeURIComponent(ci.assetTag)}`}">${ci.assetTag}</a>` : ''}</td></tr>`);
    sendHtml(res, 200, layout(ctx, 'CIs and services', html`<h1>CIs and services</h1>
<form method="get" action="/ui/cis" class="filters" role="search" aria-label="Find CIs">
<div><label for="ci-q">Name or number</label><input id="ci-q" name="q" type="search" value="${query.q ?? ''}"></div>
<div><label for="ci-class">Class</label><select id="ci-class" name="class">${options(CI_CLASSES, query.class, classLabel)}</select></div>
<div><label for="ci-service">Business service it serves</label><select id="ci-service" name="service"><option value="">any</option>${services.map((s) => html`<option value="${s.id}"${s.id === query.service && html` selected`}>${s.name}${s.criticality ? ` (${criticalityText(s.criticality)})` : ''}</option>`)}</select></div>
<div><label for="ci-criticality">Criticality</label><select id="ci-criticality" name="criticality">${options(CRITICALITIES, query.criticality, criticalityText)}</select></div>
<div><label for="ci-status">Status</label><select id="ci-status" name="status">${options(STATUSES, query.status)}</select></div>
<div><button type="submit">Search</button></div>
</form>
${result.items.length ? html`<table class="cis">
<caption>${result.page.total} CIs${query.service ? ' the service depends on' : ''}</caption>
<thead><tr><th scope="col">CI</th><th scope="col">Class</th><th scope="col">Criticality</th><th scope="col">Status</th><th scope="col">Environment</th><th scope="col">Owner</th><th scope="col">Asset</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody>
</table>` : html`<p>No CI matches.</p>`}
${pager(result.page, '/ui/cis', values)}`));
  });

  router.get('/cis/:ref', async (req, res) => {
    const ctx = await kit.context(res, 'cis');
    const found = await ciOf(req, res, ctx);
    if (!found) return;
    const overseer = isOverseer(ctx.user);
    const [detail, near, dataSources] = await Promise.all([ciDetail(db, found.id, { personId: ctx.user.id, overseer }), ciNeighbourhood(db, found.id, 1), dataSourcesOf(db, found)]);
    if (!detail) throw new Error(`CI ${found.id} vanished`);
    const { ci } = detail;
    // Provenance and sightings carry the asset's serial, location and assignee: only for those who may see the asset.
    const asset = ci.assetId ? await findAsset(db, ci.assetId) : undefined;
    const sourcesShown = !asset || await canSeeAsset(db, ctx.user, asset);
    const merges = await mergesOf(db, ci.id);
    const relationshipRows = (list: typeof detail.outgoing, outgoing: boolean) => list.map((r) => html`<tr>
<td>${outgoing ? html`<strong>${ci.name}</strong>` : ciCell(r.other)}</td><td>${label(r.type)}</td><td>${outgoing ? ciCell(r.other) : html`<strong>${ci.name}</strong>`}</td><td>${classLabel(r.other.ciClass)}</td><td>${label(r.other.operationalStatus)}</td></tr>`);
    const relationshipTable = (list: typeof detail.outgoing, count: number, outgoing: boolean, caption: string) => (list.length
      ? html`<table class="relationships"><caption>${caption} (${count}${count > list.length ? `, the first ${list.length} shown` : ''})</caption>
<thead><tr><th scope="col">From</th><th scope="col">Relationship</th><th scope="col">To</th><th scope="col">Class of the other</th><th scope="col">Its status</th></tr></thead>
<tbody>${join(relationshipRows(list, outgoing), '\n')}</tbody></table>`
      : html`<p>${caption}: none.</p>`);
    const changeRows = detail.changes.map((c) => html`<tr><th scope="row"><a href="${changeHref(c.number)}">${c.number}</a></th><td>${c.title}</td><td>${label(c.state)}${c.closeCode && html` <span class="meta">(${label(c.closeCode)})</span>`}</td><td>${time(c.plannedStart?.toISOString(), ctx.timeZone)}</td><td>${time(c.plannedEnd?.toISOString(), ctx.timeZone)}</td></tr>`);
    const graph = mapGraphOf(near.cis, near.edges, new Set([ci.id]));
    sendHtml(res, 200, layout(ctx, ci.name, html`<h1>${ci.name} <span class="meta">${ci.number}</span></h1>
<dl class="summary">
<dt>Class</dt><dd>${classLabel(ci.ciClass)}</dd>
<dt>Criticality</dt><dd>${criticalityText(ci.criticality) || html`<span class="meta">none</span>`}</dd>
<dt>Status</dt><dd id="ci-status">${label(ci.operationalStatus)}${ci.retiredAt && html` (retired ${time(new Date(ci.retiredAt).toISOString(), ctx.timeZone)})`}</dd>
<dt>Environment</dt><dd>${ci.environment}</dd>
<dt>Owner</dt><dd>${ci.ownerName ? html`${ci.ownerName} <span class="meta">${ci.ownerEmail}</span>` : html`<span class="meta">nobody</span>`}</dd>
<dt>Support group</dt><dd>${ci.supportGroup ?? html`<span class="meta">none</span>`}</dd>
<dt>Cost centre</dt><dd>${ci.costCentreCode ? `${ci.costCentreCode} — ${ci.costCentreName}` : html`<span class="meta">none</span>`}</dd>
</dl>
${merges.into && html`<p class="notice" id="ci-merged-into">A data steward merged this record into <a href="${ciHref(merges.into)}">${merges.into.number} ${merges.into.name}</a>; it is kept for its history.</p>`}
${merges.from.length > 0 && html`<p id="ci-merged-from">Merged from ${join(merges.from.map((m) => html`<a href="${ciHref(m)}">${m.number} ${m.name}</a>`), ', ')}.</p>`}
${str(req.query.verified) === '1' && html`<p class="notice ok" role="status">Marked verified.</p>`}
${discoveryBadge(ctx, dataSources, { verifyButton: true })}
<section aria-labelledby="rel-heading"><h2 id="rel-heading">Relationships</h2>
${relationshipTable(detail.outgoing, detail.outgoingCount, true, `What ${ci.name} depends on`)}
${relationshipTable(detail.incoming, detail.incomingCount, false, `What depends on ${ci.name}`)}
</section>
<section aria-labelledby="assets-heading"><h2 id="assets-heading">Assets behind it</h2>
${ci.assetId ? html`<ul><li><a href="${`/ui/assets/${encodeURIComponent(ci.assetTag)}`}">${ci.assetTag}</a> — ${label(ci.assetState)}${ci.assetSubstate && ` (${label(ci.assetSubstate)})`}</li></ul>` : html`<p>No asset backs this CI.</p>`}
</section>
${sourcesShown ? dataSourcesSection(ctx, dataSources) : html`<p class="meta" id="sources-hidden">Where this record's data comes from, and which feeds see it, is shown to those who may see the asset behind it.</p>`}
<section aria-labelledby="changes-heading"><h2 id="changes-heading">Changes that name it</h2>
${!overseer && html`<p class="meta" id="changes-scope">Only the changes you requested or are asked to approve are listed.</p>`}
${changeRows.length ? html`<table class="changes"><caption class="sr-only">Open changes first, then the latest closed ones</caption>
<thead><tr><th scope="col">Change</th><th scope="col">Title</th><th scope="col">State</th><th scope="col">Planned start</th><th scope="col">Planned end</th></tr></thead>
<tbody>${join(changeRows, '\n')}</tbody></table>` : html`<p>${overseer ? 'No change names this CI.' : 'None of your changes names this CI.'}</p>`}
</section>
${mapSection(graph, {
    id: 'neighbourhood', heading: 'Neighbourhood',
    title: `The neighbourhood of ${ci.name}`,
    description: `${ci.name} in the middle; what it depends on to the left, what depends on it to the right, one relationship away: ${near.cis.length - 1} CIs.`,
  })}
<p><a href="${`${ciHref(ci)}/map`}">A bigger map of the neighbourhood, with a depth choice</a></p>
${neighbourhoodTable(near.cis, near.edges, 'The neighbourhood, one relationship away (negative depth: what it depends on)')}`));
  });

  router.get('/cis/:ref/map', async (req, res) => {
    const ctx = await kit.context(res, 'cis');
    const found = await ciOf(req, res, ctx);
    if (!found) return;
    const depth = z.coerce.number().int().min(1).max(MAX_NEIGHBOURHOOD_DEPTH).catch(2).parse(str(req.query.depth) ?? 2);
    const near = await ciNeighbourhood(db, found.id, depth);
    const graph = mapGraphOf(near.cis, near.edges, new Set([found.id]));
    sendHtml(res, 200, layout(ctx, `Map of ${found.name}`, html`<h1>The neighbourhood of <a href="${ciHref(found)}">${found.name}</a></h1>
<form method="get" class="filters" aria-label="Depth of the map">
<div><label for="map-depth">Relationships away</label><select id="map-depth" name="depth">${Array.from({ length: MAX_NEIGHBOURHOOD_DEPTH }, (_, i) => i + 1).map((d) => html`<option value="${d}"${d === depth && html` selected`}>${d}</option>`)}</select></div>
<div><button type="submit">Show</button></div>
</form>
${near.truncated && html`<p class="notice error" role="status">The neighbourhood holds more than ${NEIGHBOURHOOD_LIMIT} CIs: the nearest ${NEIGHBOURHOOD_LIMIT} are shown.</p>`}
${mapSection(graph, {
    id: 'neighbourhood', heading: 'Map',
    title: `The neighbourhood of ${found.name}, ${depth} relationships away`,
    description: `${found.name}; what it depends on to the left, what depends on it to the right: ${near.cis.length - 1} CIs.`,
  })}
${neighbourhoodTable(near.cis, near.edges, `The neighbourhood, ${depth} relationships away (negative depth: what it depends on)`)}`));
  });

  router.get('/changes/:id/impact-map', async (req, res) => {
    const ctx = await kit.context(res, 'none');
    const row = await findChangeRow(db, String(req.params.id));
    if (!row) {
      sendHtml(res, 404, errorPage(ctx, 'No such change', `There is no change ${String(req.params.id)}.`, [['/ui/my-requests', 'My requests']]));
      return;
    }
    if (!(await maySeeRequest(db, ctx.user, { subjectId: row.id, requesterId: row.requester_id }))) {
      sendHtml(res, 403, errorPage(ctx, 'Not yours to see', 'You can see the changes you requested or are asked to approve.', [['/ui/my-requests', 'My requests']]));
      return;
    }
    const query = impactQuery.parse(firstOf(req.query));
    const tableOnly = query.view === 'table';
    const impact = row.impact;
    const { cis, edges } = await changeImpactGraph(db, row.id, impact?.maxDepth ?? DEFAULT_IMPACT_DEPTH);
    const changed = new Set(cis.filter((c) => c.depth === 0).map((c) => c.id));
    const services = cis.filter((c) => c.ciClass === 'business_service');
    const deepest = cis.reduce((max, c) => Math.max(max, c.depth), 0);
    const base = `/ui/changes/${encodeURIComponent(row.number)}/impact-map`;
    // The picture and the table alone list the same page of rows: only the picture differs (bench/service-map.ts compares them).
    const rows = [...cis].sort(tableOrder);
    const { limit } = query;
    const offset = Math.min(query.offset, Math.floor(Math.max(rows.length - 1, 0) / limit) * limit);
    const kept = { view: query.view, limit: limit === IMPACT_ROWS_PER_PAGE ? undefined : String(limit) };
    const places = tablePlaces(rows, limit, offset, (at) => base + queryString({ ...kept, offset: at || undefined }));
    const paged = rows.length > limit;
    const shown = rows.slice(offset, offset + limit);
    const picture = !tableOnly && mapSection(mapGraphOf(cis, edges, changed), {
      id: 'impact', heading: 'Map',
      title: `The impact of ${row.number}`,
      description: `The ${changed.size} CIs ${row.number} names on the left; to the right, by depth, the ${cis.length - changed.size} CIs that depend on them, up to ${services.length} business services.`,
      clusterHref: places.group,
    });
    const atDepth = new Map<number, number>();
    for (const c of rows) atDepth.set(c.depth, (atDepth.get(c.depth) ?? 0) + 1);
    const depthLinks = [...atDepth].map(([depth, count]) => html`<li><a href="${places.depth(depth)}">Depth ${depth}</a>: ${count} ${count === 1 ? 'CI' : 'CIs'}</li>`);
    const caption = paged
      ? `Every CI ${row.number} reaches, by depth: ${offset + 1} to ${offset + shown.length} of ${rows.length}`
      : `Every CI ${row.number} reaches, by depth`;
    sendHtml(res, 200, layout(ctx, `Impact of ${row.number}`, html`<h1>The impact of <a href="${changeHref(row.number)}">${row.number}</a>: ${row.title}</h1>
<dl class="summary">
<dt>CIs reached</dt><dd id="cis-reached">${cis.length} (${changed.size} named by the change, the rest up to ${deepest} relationships away)</dd>
<dt>Business services</dt><dd id="services-reached">${services.length ? join(services.map((s) => html`${ciCell(s)} (${criticalityText(s.criticality) || 'no criticality'}, depth ${s.depth})`), '; ') : 'none'}</dd>
<dt>Assessed</dt><dd>${impact ? html`${time(impact.assessedAt, ctx.timeZone)}, ${impact.services.cisReached} CIs reached then, to depth ${impact.maxDepth}${impact.services.depthLimitReached ? ' (the walk stopped at that depth: more depend on them)' : ''}` : html`<span class="meta">not yet: the map follows the workflow's walk to depth ${DEFAULT_IMPACT_DEPTH}</span>`}</dd>
</dl>
<p>${tableOnly ? html`<a href="${base + queryString({ limit: kept.limit, offset: offset || undefined })}">Show the picture with the table</a>` : html`<a href="${base + queryString({ view: 'table', limit: kept.limit, offset: offset || undefined })}">Show the table only</a>`}</p>
${picture}
${paged && html`<nav aria-label="Depths in the table" id="table-depths"><p>The table lists ${rows.length} CIs, ${limit} a page. Where each depth starts:</p><ul>${join(depthLinks, '\n')}</ul></nav>`}
${placedTable(shown, throughOf(cis, edges), caption, 'Depth')}
${paged && pager({ limit, offset, total: rows.length }, base, { view: query.view })}`));
  });
}
