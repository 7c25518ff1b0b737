import type { Knex } from 'knex';
import type { DemoPerson } from './seed';

interface DemoChange {
  requester: string;
  body: (ciIdOf: (name: string) => string, next: { start: string; end: string }, modelId: (name: string) => string) => Record<string, unknown>;
}

/**
 * A few changes submitted through the API on the first start, so that a newcomer finds approval
 * tasks in the mail sink, a standard change waiting for its implementer, and an emergency in
 * front of the emergency CAB.
 */
const DEMO_CHANGES: DemoChange[] = [
  {
    requester: 'oliver.brown',
    body: (ci, next) => ({
      type: 'normal',
      title: 'Upgrade the kernel on insights-api-01',
      description: 'Move insights-api-01 to the 6.1 LTS kernel to pick up the io_uring fixes; the other two API nodes carry the load.',
      affectedCiIds: [ci('insights-api-01')],
      plannedStart: next.start,
      plannedEnd: next.end,
      oneOffCostMinor: 80_000,
      costCentre: 'CC-5000',
    }),
  },
  {
    requester: 'sara.lindqvist',
    body: (ci, _next, model) => ({
      type: 'standard',
      changeModelId: model('Patch an application server'),
      affectedCiIds: [ci('wiki-01')],
      description: 'November security patches for the wiki server.',
    }),
  },
  {
    requester: 'mehmet.yilmaz',
    body: (ci) => ({
      type: 'emergency',
      title: 'Replace the failing PSU in ams-haproxy-01',
      description: 'One of two power supplies reports faults; swap it before the second fails and takes both insights load balancers down.',
      affectedCiIds: [ci('ams-haproxy-01')],
      oneOffCostMinor: 35_000,
      costCentre: 'CC-1000',
    }),
  },
];

export async function submitDemoChanges(db: Knex, apiUrl: string, people: DemoPerson[]): Promise<string[]> {
  const cis = new Map<string, string>((await db('configuration_items').select('name', 'id')).map((r) => [r.name, r.id]));
  const models = new Map<string, string>((await db('change_models').select('name', 'id')).map((r) => [r.name, r.id]));
  const window = await db('schedule_windows').where({ kind: 'maintenance' }).where('starts_at', '>', db.fn.now()).orderBy('starts_at').first('starts_at', 'ends_at');
  const next = { start: (window.starts_at as Date).toISOString(), end: new Date((window.starts_at as Date).getTime() + 2 * 3_600_000).toISOString() };
  const lookup = (map: Map<string, string>, what: string) => (name: string) => {
    const id = map.get(name);
    if (!id) throw new Error(`demo: no ${what} named ${name}`);
    return id;
  };
  const numbers: string[] = [];
  for (const change of DEMO_CHANGES) {
    const person = people.find((p) => p.email.startsWith(`${change.requester}@`));
    if (!person) throw new Error(`demo: no person ${change.requester}`);
    const res = await fetch(`${apiUrl}/changes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${person.apiKey}`, 'content-type': 'application/json', 'idempotency-key': `demo-${change.requester}` },
      body: JSON.stringify(change.body(lookup(cis, 'CI'), next, lookup(models, 'change model'))),
    });
    const body = (await res.json()) as { number?: string; error?: { message: string } };
    if (!res.ok) throw new Error(`demo: submitting a change failed: ${body.error?.message ?? res.status}`);
    numbers.push(body.number!);
  }
  return numbers;
}
