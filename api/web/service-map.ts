/**
 * The service map as a picture: a pure function from a graph of CIs (class, criticality, depth)
 * and their relationships (typed) to SVG markup, laid out by @dagrejs/dagre in layers left to
 * right by depth and rendered on the server (the pages run no scripts). A relationship reads
 * "<from> <type> <to>" (an application runs on a server); its arrow points at `to`, and the walk
 * of a change goes the other way, so depth grows from a dependency to what depends on it: the
 * changed CIs stand on the left, the business services they reach on the right.
 *
 * Hundreds of CIs stay readable and fast: above a cap the CIs that matter least (deepest first,
 * never a changed CI or a business service) are grouped into one node per depth and class
 * ("+412 virtual machines at depth 3"), whose edges are the union of theirs. The table beside
 * the picture (the page's) lists every CI; the picture is a named group (title and description)
 * of links, and says by shape, dash and text what colour also says.
 */
import { Graph, layout as dagreLayout } from '@dagrejs/dagre';
import { html, join, type SafeHtml } from './html';

export interface MapNode {
  id: string;
  /** The CI's page. */
  href: string;
  name: string;
  ciClass: string;
  criticality: string | null;
  /** Relationships away from the starting CIs; a dependency of the start has a negative depth. */
  depth: number;
  /** One of the CIs the change names (or the CI whose neighbourhood this is). */
  changed?: boolean;
}

/** "<from> <type> <to>": from depends on, runs on, is hosted on or uses to. */
export interface MapEdge {
  from: string;
  to: string;
  type: string;
}

export interface MapGraph {
  nodes: MapNode[];
  edges: MapEdge[];
}

export interface ClusterNode {
  id: string;
  href: string;
  ciClass: string;
  depth: number;
  /** How many CIs it stands for. */
  count: number;
}

export interface DrawnEdge {
  from: string;
  to: string;
  /** The relationship types of the edges it stands for, sorted. */
  types: string[];
  /** How many relationships it stands for (more than one only for a cluster's edges). */
  count: number;
}

export interface ClusteredGraph {
  nodes: MapNode[];
  clusters: ClusterNode[];
  edges: DrawnEdge[];
  /** CIs drawn inside clusters rather than on their own. */
  clustered: number;
}

/**
 * Above this many CIs the rest are grouped. Measured (bench/service-map.ts, test/service-map.test.ts):
 * dagre lays out 150 CIs and their clusters in tens of milliseconds, 500 in about a second.
 */
export const NODE_CAP = 150;

const CLASS_LABELS: Record<string, [one: string, many: string, tag: string]> = {
  business_service: ['business service', 'business services', 'SERVICE'],
  application: ['application', 'applications', 'APP'],
  database: ['database', 'databases', 'DB'],
  server: ['server', 'servers', 'SERVER'],
  virtual_machine: ['virtual machine', 'virtual machines', 'VM'],
  network_device: ['network device', 'network devices', 'NETWORK'],
  storage: ['storage', 'storage CIs', 'STORAGE'],
  cloud_resource: ['cloud resource', 'cloud resources', 'CLOUD'],
  load_balancer: ['load balancer', 'load balancers', 'LB'],
};

/** A class in words, one or many ("virtual machine", "virtual machines"): the pictures and the CI pages say it alike. */
export const classLabel = (ciClass: string, count = 1) => {
  const names = CLASS_LABELS[ciClass];
  return names ? names[count === 1 ? 0 : 1] : ciClass.replace(/_/g, ' ');
};
const classTag = (ciClass: string) => CLASS_LABELS[ciClass]?.[2] ?? ciClass.toUpperCase();

export const clusterLabel = (c: Pick<ClusterNode, 'count' | 'ciClass' | 'depth'>) => `+${c.count} ${classLabel(c.ciClass, c.count)} at depth ${c.depth}`;

/** "tier 1" for tier_1; nothing for none. */
export const criticalityText = (c: string | null) => (c ? c.replace('tier_', 'tier ') : '');

const CRITICALITY_ORDER = ['tier_1', 'tier_2', 'tier_3', 'tier_4'];
const criticalityRank = (c: string | null) => (c && CRITICALITY_ORDER.includes(c) ? CRITICALITY_ORDER.indexOf(c) : CRITICALITY_ORDER.length);

/** Which CIs keep a box of their own: changed ones, business services, then the nearest, the most critical, by name. */
function byImportance(a: MapNode, b: MapNode): number {
  return Number(!!b.changed) - Number(!!a.changed)
    || Number(b.ciClass === 'business_service') - Number(a.ciClass === 'business_service')
    || Math.abs(a.depth) - Math.abs(b.depth)
    || criticalityRank(a.criticality) - criticalityRank(b.criticality)
    || a.name.localeCompare(b.name);
}

/**
 * Keeps `cap` CIs on their own and groups the others by depth and class. Edges between groups are
 * merged: one per pair of boxes, with the types and the count of the relationships behind it.
 */
export function clusterGraph(graph: MapGraph, cap = NODE_CAP, clusterHref: (depth: number, ciClass: string) => string = () => '#reached'): ClusteredGraph {
  const kept = graph.nodes.length <= cap ? graph.nodes : [...graph.nodes].sort(byImportance).slice(0, cap);
  const keptIds = new Set(kept.map((n) => n.id));
  const boxOf = new Map<string, string>();
  const clusters = new Map<string, ClusterNode>();
  for (const node of graph.nodes) {
    if (keptIds.has(node.id)) {
      boxOf.set(node.id, node.id);
      continue;
    }
    const id = `cluster:${node.depth}:${node.ciClass}`;
    const cluster = clusters.get(id) ?? { id, href: clusterHref(node.depth, node.ciClass), ciClass: node.ciClass, depth: node.depth, count: 0 };
    cluster.count += 1;
    clusters.set(id, cluster);
    boxOf.set(node.id, id);
  }
  const edges = new Map<string, { from: string; to: string; types: Set<string>; count: number }>();
  for (const edge of graph.edges) {
    const from = boxOf.get(edge.from);
    const to = boxOf.get(edge.to);
    if (!from || !to || from === to) continue;
    const key = `${from}\u0000${to}`;
    const drawn = edges.get(key) ?? { from, to, types: new Set<string>(), count: 0 };
    drawn.types.add(edge.type);
    drawn.count += 1;
    edges.set(key, drawn);
  }
  const byDepthAndClass = (a: ClusterNode, b: ClusterNode) => a.depth - b.depth || a.ciClass.localeCompare(b.ciClass);
  return {
    nodes: graph.nodes.filter((n) => keptIds.has(n.id)),
    clusters: [...clusters.values()].sort(byDepthAndClass),
    edges: [...edges.values()].map((e) => ({ from: e.from, to: e.to, types: [...e.types].sort(), count: e.count })),
    clustered: graph.nodes.length - kept.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 46;
const CLUSTER_WIDTH = 230;
const MARGIN = 16;

export interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  width: number;
  height: number;
  boxes: Map<string, Box>;
  /** Each edge's route from `from` to `to` (the arrow's end). */
  routes: { edge: DrawnEdge; points: { x: number; y: number }[] }[];
}

/**
 * Places the boxes with dagre: rank = depth (each relationship a column apart), so every column is
 * one depth; dagre orders each column to cross as few edges as it can and routes the edges. Only
 * edges from a depth to a greater one place anything; others (between CIs of one depth, which the
 * walk does not follow) are left out of the picture: the tables show every relationship.
 */
export function layoutServiceMap(graph: ClusteredGraph): Layout {
  const depthOf = new Map<string, number>();
  for (const n of graph.nodes) depthOf.set(n.id, n.depth);
  for (const c of graph.clusters) depthOf.set(c.id, c.depth);
  const minDepth = Math.min(0, ...depthOf.values());
  const g = new Graph({ multigraph: false });
  g.setGraph({
    // Upper-left alignment keeps the changed CIs at the top, where the scrolled picture opens.
    rankdir: 'LR', align: 'UL', nodesep: 14, ranksep: 70, marginx: MARGIN, marginy: MARGIN,
    // A rank per depth (dagre doubles ranks to make room for edge labels); its own nodes (the nesting root) go before the first.
    ranker: (inner: Graph) => {
      for (const v of inner.nodes()) {
        const depth = depthOf.get(v);
        (inner.node(v) as { rank?: number }).rank = depth === undefined ? -1 : 2 * (depth - minDepth);
      }
    },
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const c of graph.clusters) g.setNode(c.id, { width: CLUSTER_WIDTH, height: NODE_HEIGHT });
  const laid = graph.edges.filter((e) => depthOf.get(e.from)! > depthOf.get(e.to)!);
  // The dependency comes first in the layout so that it stands to the left.
  for (const e of laid) g.setEdge(e.to, e.from);
  dagreLayout(g);
  const boxes = new Map<string, Box>();
  for (const id of depthOf.keys()) {
    const { x, y, width, height } = g.node(id) as { x: number; y: number; width: number; height: number };
    boxes.set(id, { id, x: x - width / 2, y: y - height / 2, width, height });
  }
  const routes = laid.map((edge) => ({ edge, points: [...((g.edge(edge.to, edge.from) as { points?: { x: number; y: number }[] }).points ?? [])].reverse() }));
  const graphLabel = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(graphLabel.width ?? 0), height: Math.ceil(graphLabel.height ?? 0), boxes, routes };
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/** Each class's fill; its shape and tag say the same without colour. */
const FILLS: Record<string, string> = {
  business_service: '#fff1c2', application: '#ddf4ff', database: '#e6dcff', server: '#e7ecf0', virtual_machine: '#f1f4f6',
  network_device: '#dafbe1', storage: '#ffe4d6', cloud_resource: '#e0f7fa', load_balancer: '#fde2f3',
};

/** Relationship types by dash as well as by name (edge titles and the legend). */
const EDGE_DASHES: Record<string, string> = { depends_on: '', runs_on: '6 3', hosted_on: '2 3', uses: '10 3 2 3' };

const r1 = (n: number) => Math.round(n * 10) / 10;

/** The outline of a class's box at (x, y) of this size. */
function shape(ciClass: string, x: number, y: number, w: number, h: number, extra: string): SafeHtml {
  const fill = FILLS[ciClass] ?? '#ffffff';
  const [X, Y, W, H] = [r1(x), r1(y), r1(w), r1(h)];
  const poly = (points: [number, number][]) => html`<polygon class="${`shape ${extra}`}" fill="${fill}" points="${points.map(([px, py]) => `${r1(px)},${r1(py)}`).join(' ')}"/>`;
  switch (ciClass) {
    case 'business_service':
      return poly([[x + 12, y], [x + w - 12, y], [x + w, y + h / 2], [x + w - 12, y + h], [x + 12, y + h], [x, y + h / 2]]);
    case 'network_device':
      return poly([[x + 8, y], [x + w - 8, y], [x + w, y + 8], [x + w, y + h - 8], [x + w - 8, y + h], [x + 8, y + h], [x, y + h - 8], [x, y + 8]]);
    case 'load_balancer':
      return poly([[x + 10, y], [x + w, y], [x + w - 10, y + h], [x, y + h]]);
    case 'database':
    case 'storage':
      return html`<path class="${`shape ${extra}`}" fill="${fill}" d="${`M${X},${Y + 6} a${W / 2},6 0 0,1 ${W},0 v${H - 12} a${W / 2},6 0 0,1 ${-W},0 z M${X},${Y + 6} a${W / 2},6 0 0,0 ${W},0`}"/>`;
    case 'application':
      return html`<rect class="${`shape ${extra}`}" fill="${fill}" x="${X}" y="${Y}" width="${W}" height="${H}" rx="10"/>`;
    case 'cloud_resource':
      return html`<rect class="${`shape ${extra}`}" fill="${fill}" x="${X}" y="${Y}" width="${W}" height="${H}" rx="${r1(h / 2)}"/>`;
    case 'virtual_machine':
      return html`<rect class="${`shape vm ${extra}`}" fill="${fill}" x="${X}" y="${Y}" width="${W}" height="${H}"/>`;
    default:
      return html`<rect class="${`shape ${extra}`}" fill="${fill}" x="${X}" y="${Y}" width="${W}" height="${H}"/>`;
  }
}

/** A name cut to what fits a box (the whole name is the box's tooltip and in the table). */
export function fitName(name: string, max = 26): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}

function nodeMarkup(node: MapNode, box: Box): SafeHtml {
  const service = node.ciClass === 'business_service';
  const tag = [classTag(node.ciClass), node.changed ? 'CHANGED' : '', service ? criticalityText(node.criticality) : '', `depth ${node.depth}`].filter(Boolean).join(' · ');
  const tooltip = `${node.name} (${classLabel(node.ciClass)}${node.criticality ? `, ${criticalityText(node.criticality)}` : ''}, depth ${node.depth}${node.changed ? ', changed' : ''})`;
  const classes = [node.changed && 'changed', service && 'service'].filter(Boolean).join(' ');
  return html`<a href="${node.href}" class="node"><title>${tooltip}</title>${shape(node.ciClass, box.x, box.y, box.width, box.height, classes)}<text x="${r1(box.x + box.width / 2)}" y="${r1(box.y + 20)}" class="name">${fitName(node.name)}</text><text x="${r1(box.x + box.width / 2)}" y="${r1(box.y + 36)}" class="tag">${tag}</text></a>`;
}

function clusterMarkup(cluster: ClusterNode, box: Box): SafeHtml {
  const text = clusterLabel(cluster);
  return html`<a href="${cluster.href}" class="node cluster"><title>${text} (listed in the table)</title><rect class="cluster-back" x="${r1(box.x + 4)}" y="${r1(box.y - 4)}" width="${r1(box.width)}" height="${r1(box.height)}" fill="${FILLS[cluster.ciClass] ?? '#ffffff'}"/>${shape(cluster.ciClass, box.x, box.y, box.width, box.height, 'cluster-front')}<text x="${r1(box.x + box.width / 2)}" y="${r1(box.y + 20)}" class="name">${fitName(text, 30)}</text><text x="${r1(box.x + box.width / 2)}" y="${r1(box.y + 36)}" class="tag">${`GROUP · ${classTag(cluster.ciClass)} · depth ${cluster.depth}`}</text></a>`;
}

function edgeMarkup(route: Layout['routes'][number], names: Map<string, string>, arrowId: string): SafeHtml {
  const { edge, points } = route;
  if (points.length < 2) return html``;
  const d = `M${points.map((p) => `${r1(p.x)},${r1(p.y)}`).join(' L')}`;
  const dash = edge.types.length === 1 ? EDGE_DASHES[edge.types[0]] : '';
  const what = edge.types.map((t) => t.replace(/_/g, ' ')).join(' / ');
  const title = `${names.get(edge.from) ?? edge.from} ${what} ${names.get(edge.to) ?? edge.to}${edge.count > 1 ? ` (${edge.count} relationships)` : ''}`;
  return html`<path class="edge" d="${d}"${dash ? html` stroke-dasharray="${dash}"` : ''} marker-end="${`url(#${arrowId})`}"><title>${title}</title></path>`;
}

const SVG_STYLE = html`<style>
  .edge { fill: none; stroke: #57606a; stroke-width: 1.2; }
  .shape { stroke: #57606a; stroke-width: 1.2; } .shape.vm { stroke-dasharray: 4 2; }
  .shape.service { stroke: #9a6700; stroke-width: 2; } .shape.changed { stroke: #cf222e; stroke-width: 3.5; }
  .cluster-back { stroke: #57606a; stroke-dasharray: 3 2; } .cluster-front { stroke-dasharray: 3 2; }
  text { font: 12px system-ui, sans-serif; fill: #1b1f24; text-anchor: middle; } text.tag { font-size: 10px; fill: #424a53; letter-spacing: .02em; }
  a.node:focus .shape, a.node:hover .shape { stroke: #0969da; stroke-width: 3; }
</style>`;

export interface ServiceMapOptions {
  /** Unique on the page: the ids of the title, description and arrowhead derive from it. */
  id: string;
  title: string;
  description: string;
}

/**
 * The picture of a laid-out graph: a scrollable SVG named by its title and description. Its role is
 * group, not img: an img's content is presentational, so the boxes' links (each named by its
 * title) could not be reached there (axe-core: nested-interactive).
 */
export function serviceMapSvg(graph: ClusteredGraph, layout: Layout, options: ServiceMapOptions): SafeHtml {
  const names = new Map<string, string>([...graph.nodes.map((n): [string, string] => [n.id, n.name]), ...graph.clusters.map((c): [string, string] => [c.id, clusterLabel(c)])]);
  const arrowId = `${options.id}-arrow`;
  const nodes = graph.nodes.map((n) => nodeMarkup(n, layout.boxes.get(n.id)!));
  const clusters = graph.clusters.map((c) => clusterMarkup(c, layout.boxes.get(c.id)!));
  const edges = layout.routes.map((r) => edgeMarkup(r, names, arrowId));
  const width = Math.max(layout.width, 200);
  const height = Math.max(layout.height, 60);
  return html`<div class="service-map" id="${options.id}" style="overflow: auto; max-height: 75vh; border: 1px solid #d0d7de; border-radius: 6px; background: #fff;">
<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-labelledby="${`${options.id}-title ${options.id}-desc`}" width="${width}" height="${height}" viewBox="${`0 0 ${width} ${height}`}">
<title id="${`${options.id}-title`}">${options.title}</title>
<desc id="${`${options.id}-desc`}">${options.description}</desc>
<defs><marker id="${arrowId}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>
${SVG_STYLE}
<g class="edges">${join(edges, '\n')}</g>
<g class="nodes">${join([...nodes, ...clusters], '\n')}</g>
</svg>
</div>`;
}

/** What the shapes, marks and dashes mean: a list, so it reads without the picture. */
export function serviceMapLegend(classes: readonly string[]): SafeHtml {
  const swatch = (ciClass: string, extra = '') => html`<svg width="44" height="22" aria-hidden="true" focusable="false">${SVG_STYLE}${shape(ciClass, 2, 2, 40, 18, extra)}</svg>`;
  const line = (type: string) => html`<svg width="44" height="12" aria-hidden="true" focusable="false"><line x1="2" y1="6" x2="42" y2="6" stroke="#57606a" stroke-width="1.5"${EDGE_DASHES[type] ? html` stroke-dasharray="${EDGE_DASHES[type]}"` : ''}/></svg>`;
  const items = [
    ...classes.map((c) => html`<li>${swatch(c)} ${classLabel(c)} <span class="meta">(tag ${classTag(c)})</span></li>`),
    html`<li>${swatch('server', 'changed')} a CI the change names: thick outline, tag CHANGED</li>`,
    html`<li>${swatch('business_service', 'service')} business service: with its criticality (tier 1 is the most critical)</li>`,
    html`<li>${swatch('application', 'cluster-front')} a group: "+n … at depth d", the CIs listed in the table</li>`,
    ...Object.keys(EDGE_DASHES).map((t) => html`<li>${line(t)} ${t.replace(/_/g, ' ')}: an arrow from A to B reads "A ${t.replace(/_/g, ' ')} B"</li>`),
  ];
  return html`<details class="map-legend"><summary>Legend</summary><ul style="list-style: none; padding-left: 0; columns: 2 18rem;">${join(items, '\n')}</ul><p class="meta">Depth grows to the right: from the CIs a change names to what depends on them, up to the business services.</p></details>`;
}

/** The whole picture from a graph: clustered above the cap, laid out, drawn. */
export function renderServiceMap(graph: MapGraph, options: ServiceMapOptions & { cap?: number; clusterHref?: (depth: number, ciClass: string) => string }): { svg: SafeHtml; drawn: ClusteredGraph } {
  const drawn = clusterGraph(graph, options.cap ?? NODE_CAP, options.clusterHref);
  return { svg: serviceMapSvg(drawn, layoutServiceMap(drawn), options), drawn };
}
