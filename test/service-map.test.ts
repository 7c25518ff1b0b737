/**
 * The service map's pure parts (api/web/service-map.ts): clustering above the cap, escaping in the
 * SVG, and the layout's bounds (every box inside the picture, depth growing to the right), on small
 * graphs and on the reach of a hub of the 10,000-CI generated estate (scripts/generate-estate.ts's
 * pure plan), where the layout time per cap is printed (no timing is asserted).
 */
import { planEstate } from '../scripts/generate-estate';
import {
  NODE_CAP,
  clusterGraph,
  clusterLabel,
  layoutServiceMap,
  renderServiceMap,
  serviceMapLegend,
  serviceMapSvg,
  type MapEdge,
  type MapGraph,
  type MapNode,
} from '../api/web/service-map';

const node = (id: string, depth: number, ciClass = 'application', extra: Partial<MapNode> = {}): MapNode =>
  ({ id, href: `/ui/cis/${id}`, name: id, ciClass, criticality: null, depth, ...extra });

/** A chain of depths 0..3 with `wide` applications at depth 2, all reached through one vm. */
function fan(wide: number): MapGraph {
  const nodes = [node('srv', 0, 'server', { changed: true }), node('vm', 1, 'virtual_machine')];
  const edges: MapEdge[] = [{ from: 'vm', to: 'srv', type: 'hosted_on' }];
  for (let i = 0; i < wide; i++) {
    nodes.push(node(`app-${String(i).padStart(3, '0')}`, 2));
    edges.push({ from: `app-${String(i).padStart(3, '0')}`, to: 'vm', type: 'runs_on' });
  }
  nodes.push(node('svc', 3, 'business_service', { criticality: 'tier_1' }));
  edges.push({ from: 'svc', to: 'app-000', type: 'depends_on' }, { from: 'svc', to: `app-${String(wide - 1).padStart(3, '0')}`, type: 'depends_on' });
  return { nodes, edges };
}

describe('clustering', () => {
  it('keeps every CI on its own up to the cap', () => {
    const graph = fan(10);
    const drawn = clusterGraph(graph, 20);
    expect(drawn.nodes).toHaveLength(graph.nodes.length);
    expect(drawn.clusters).toEqual([]);
    expect(drawn.clustered).toBe(0);
    expect(drawn.edges).toHaveLength(graph.edges.length);
  });

  it('above the cap keeps the changed CIs and the services, groups the rest by depth and class, and merges their edges', () => {
    const graph = fan(50);
    const drawn = clusterGraph(graph, 10, (depth, ciClass) => `#depth-${depth}-${ciClass}`);
    expect(drawn.nodes).toHaveLength(10);
    expect(drawn.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['srv', 'svc', 'vm']));
    // 53 CIs, 10 kept: the 43 other applications in one group at depth 2.
    expect(drawn.clustered).toBe(43);
    expect(drawn.clusters).toEqual([{ id: 'cluster:2:application', href: '#depth-2-application', ciClass: 'application', depth: 2, count: 43 }]);
    expect(clusterLabel(drawn.clusters[0])).toBe('+43 applications at depth 2');
    // The group's 43 edges to the vm are one edge that says so; the service's edge to a grouped application goes to the group.
    const toVm = drawn.edges.find((e) => e.from === 'cluster:2:application' && e.to === 'vm');
    expect(toVm).toEqual({ from: 'cluster:2:application', to: 'vm', types: ['runs_on'], count: 43 });
    expect(drawn.edges.find((e) => e.from === 'svc' && e.to === 'cluster:2:application')?.count).toBe(1);
    // Every relationship is accounted for once; none joins a box to itself.
    expect(drawn.edges.reduce((sum, e) => sum + e.count, 0)).toBe(graph.edges.length);
    expect(drawn.edges.every((e) => e.from !== e.to)).toBe(true);
  });

  it('prefers the nearest and the most critical CIs when it must choose', () => {
    const graph: MapGraph = {
      nodes: [node('a', 0, 'server', { changed: true }), node('far', 4), node('near', 1), node('crit', 2, 'application', { criticality: 'tier_1' }), node('plain', 2)],
      edges: [],
    };
    expect(clusterGraph(graph, 3).nodes.map((n) => n.id).sort()).toEqual(['a', 'crit', 'near']);
  });
});

describe('the picture', () => {
  it('escapes names, titles and links', () => {
    const evil = '<script>alert("x")</script>&\'';
    const graph: MapGraph = {
      nodes: [node('a', 0, 'server', { name: evil, href: '/ui/cis/a"onclick="x', changed: true }), node('b', 1, 'application', { name: 'b & c' })],
      edges: [{ from: 'b', to: 'a', type: 'runs_on' }],
    };
    const { svg } = renderServiceMap(graph, { id: 'm', title: `Map of ${evil}`, description: 'd <b>' });
    const markup = svg.toString();
    expect(markup).not.toContain('<script>');
    expect(markup).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(markup).toContain('href="/ui/cis/a&quot;onclick=&quot;x"');
    expect(markup).toContain('<desc id="m-desc">d &lt;b&gt;</desc>');
    expect(markup).toContain('b &amp; c');
    expect(markup).toMatch(/<svg [^>]*role="group" aria-labelledby="m-title m-desc"/);
    expect(serviceMapLegend(['server']).toString()).toContain('aria-hidden="true"');
  });

  it('draws one box per CI and group, one path with an arrowhead per edge, and marks the changed CI and the service', () => {
    const drawn = clusterGraph(fan(30), 12);
    const markup = serviceMapSvg(drawn, layoutServiceMap(drawn), { id: 'm', title: 't', description: 'd' }).toString();
    expect(markup.match(/<a href="[^"]*" class="node"/g)).toHaveLength(12);
    expect(markup.match(/class="node cluster"/g)).toHaveLength(1);
    expect(markup.match(/<path class="edge"/g)).toHaveLength(drawn.edges.length);
    expect(markup.match(/marker-end="url\(#m-arrow\)"/g)).toHaveLength(drawn.edges.length);
    expect(markup).toContain('SERVER · CHANGED · depth 0');
    expect(markup).toContain('SERVICE · tier 1 · depth 3');
  });
});

/** Every box inside the picture, and each depth's column strictly right of the one before. */
function expectWithinBoundsAndLayered(graph: MapGraph, cap: number) {
  const drawn = clusterGraph(graph, cap);
  const layout = layoutServiceMap(drawn);
  const depthOf = new Map<string, number>([...drawn.nodes.map((n): [string, number] => [n.id, n.depth]), ...drawn.clusters.map((c): [string, number] => [c.id, c.depth])]);
  expect(layout.boxes.size).toBe(depthOf.size);
  for (const box of layout.boxes.values()) {
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(layout.width + 0.5);
    expect(box.y + box.height).toBeLessThanOrEqual(layout.height + 0.5);
  }
  const depths = [...new Set(depthOf.values())].sort((a, b) => a - b);
  for (let i = 1; i < depths.length; i++) {
    const boxesAt = (d: number) => [...layout.boxes.values()].filter((b) => depthOf.get(b.id) === d);
    const rightmost = Math.max(...boxesAt(depths[i - 1]).map((b) => b.x + b.width));
    const leftmost = Math.min(...boxesAt(depths[i]).map((b) => b.x));
    expect(leftmost).toBeGreaterThan(rightmost);
  }
  for (const route of layout.routes) {
    for (const p of route.points) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(layout.width + 0.5);
    }
  }
  return { drawn, layout };
}

describe('layout', () => {
  it('keeps every box inside the picture, with depth growing to the right', () => {
    expectWithinBoundsAndLayered(fan(20), 100);
    expectWithinBoundsAndLayered(fan(80), 30);
  });

  it('lays out a neighbourhood with what the CI depends on to its left (negative depths)', () => {
    const graph: MapGraph = {
      nodes: [node('c', 0, 'server', { changed: true }), node('net', -1, 'network_device'), node('core', -2, 'network_device'), node('vm', 1, 'virtual_machine'), node('app', 2)],
      edges: [{ from: 'c', to: 'net', type: 'uses' }, { from: 'net', to: 'core', type: 'uses' }, { from: 'vm', to: 'c', type: 'hosted_on' }, { from: 'app', to: 'vm', type: 'runs_on' }],
    };
    const { layout } = expectWithinBoundsAndLayered(graph, 100);
    expect(layout.boxes.get('core')!.x).toBeLessThan(layout.boxes.get('c')!.x);
    expect(layout.boxes.get('app')!.x).toBeGreaterThan(layout.boxes.get('c')!.x);
  });

  it('lays out the reach of a hub of the 10,000-CI estate within its bounds at every cap', () => {
    const plan = planEstate(10_000, 42, 'estate-');
    const hub = plan.groups.hubs[0];
    // The impact walk in memory: breadth first over the reverse edges, each CI at its first depth, to depth 6.
    const dependants = new Map<number, { from: number; type: string }[]>();
    plan.edges.from.forEach((from, i) => {
      const list = dependants.get(plan.edges.to[i]) ?? [];
      list.push({ from, type: plan.edges.type[i] });
      dependants.set(plan.edges.to[i], list);
    });
    const depth = new Map<number, number>([[hub, 0]]);
    let frontier = [hub];
    for (let d = 1; d <= 6 && frontier.length; d++) {
      const next: number[] = [];
      for (const ci of frontier) {
        for (const { from } of dependants.get(ci) ?? []) {
          if (depth.has(from)) continue;
          depth.set(from, d);
          next.push(from);
        }
      }
      frontier = next;
    }
    const nodes = [...depth].map(([i, d]) => node(`ci-${i}`, d, plan.classes[i], { name: plan.names[i], criticality: plan.criticalities[i] || null, changed: i === hub }));
    const edges: MapEdge[] = [];
    plan.edges.from.forEach((from, i) => {
      const to = plan.edges.to[i];
      if (depth.has(from) && depth.has(to) && depth.get(from) === depth.get(to)! + 1) edges.push({ from: `ci-${from}`, to: `ci-${to}`, type: plan.edges.type[i] });
    });
    expect(nodes.length).toBeGreaterThan(NODE_CAP);
    const lines: string[] = [];
    for (const cap of [50, 100, NODE_CAP, 200, 300]) {
      const started = performance.now();
      const { drawn, layout } = expectWithinBoundsAndLayered({ nodes, edges }, cap);
      const markup = serviceMapSvg(drawn, layout, { id: 'm', title: 't', description: 'd' }).toString();
      lines.push(`cap ${cap}: ${drawn.nodes.length} boxes + ${drawn.clusters.length} groups, ${drawn.edges.length} edges, ${layout.width}x${layout.height} px, ${Math.round(markup.length / 1024)} KB, clustered, laid out and drawn in ${Math.round(performance.now() - started)} ms`);
      expect(drawn.nodes).toHaveLength(cap);
    }
    process.stdout.write(`\nService map of a hub of the 10,000-CI estate (${nodes.length} CIs reached, ${edges.length} relationships followed)\n${lines.join('\n')}\n`);
  });
});
