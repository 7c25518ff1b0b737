import type { Knex } from 'knex';
import { cappedBackoffMs } from '../domain/backoff';
import type { DemoPerson } from './seed';

interface DemoChange {
  requester: string;
  body: (ciIdOf: (name: string) => string, next: { start: string; end: string }, modelId: (name: string) => string) => Record<string, unknown>;
}

/**
 * Changes submitted through the API on the first start, so that a newcomer finds approval tasks
 * in the mail sink, a standard change waiting for its implementer, and an emergency in front of
 * the emergency CAB.
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

interface DemoPurchase {
  requester: string;
  body: (modelId: (name: string) => string, productId: (name: string) => string) => Record<string, unknown>;
}

/** Purchase requests for the first start: one over budget and waiting for its approvers, one offered spare seats. */
const DEMO_PURCHASES: DemoPurchase[] = [
  {
    requester: 'liam.oconnor',
    body: (model) => ({
      costCentre: 'CC-4000',
      justification: 'Two account executives join the Benelux team in January.',
      programme: 'Sales expansion 2027',
      lines: [{ hardwareModelId: model('MacBook Pro 14-inch (M4 Pro)'), quantity: 2 }],
    }),
  },
  {
    requester: 'yuki.tanaka',
    body: (_model, product) => ({
      costCentre: 'CC-5000',
      justification: 'Design seats for the two contractors on the onboarding redesign.',
      lines: [{ softwareProductId: product('Creative Cloud All Apps'), quantity: 2 }],
    }),
  },
];

/** Tries of one submission while the API answers that Temporal is not ready (503 with Retry-After). */
const SUBMIT_ATTEMPTS = 6;

async function submit(apiUrl: string, path: string, person: DemoPerson, key: string, body: Record<string, unknown>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${person.apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { number?: string; error?: { code: string; message: string } };
    if (res.ok) return answer.number!;
    // The same Idempotency-Key makes a retry safe: it starts the request reserved by the first try.
    if (res.status === 503 && attempt < SUBMIT_ATTEMPTS) {
      // The API's Retry-After when it gives one; otherwise back off rather than knock at a fixed pace.
      const retryAfter = res.headers.get('retry-after');
      await new Promise((resolve) => setTimeout(resolve, retryAfter ? Number(retryAfter) * 1000 : cappedBackoffMs(attempt, 1_000, 8_000)));
      continue;
    }
    throw new Error(`demo: ${path} failed (${res.status}${attempt > 1 ? ` after ${attempt} tries` : ''}): ${answer.error?.message ?? 'no message'}`);
  }
}

const lookup = (map: Map<string, string>, what: string) => (name: string) => {
  const id = map.get(name);
  if (!id) throw new Error(`demo: no ${what} named ${name}`);
  return id;
};

const personOf = (people: DemoPerson[], login: string) => {
  const person = people.find((p) => p.email.startsWith(`${login}@`));
  if (!person) throw new Error(`demo: no person ${login}`);
  return person;
};

/** Submits the demo changes and purchase requests through the API; returns their numbers. */
export async function submitDemoRequests(db: Knex, apiUrl: string, people: DemoPerson[]): Promise<string[]> {
  const cis = new Map<string, string>((await db('configuration_items').select('name', 'id')).map((r) => [r.name, r.id]));
  const models = new Map<string, string>((await db('change_models').select('name', 'id')).map((r) => [r.name, r.id]));
  const window = await db('schedule_windows').where({ kind: 'maintenance' }).where('starts_at', '>', db.fn.now()).orderBy('starts_at').first('starts_at', 'ends_at');
  const next = { start: (window.starts_at as Date).toISOString(), end: new Date((window.starts_at as Date).getTime() + 2 * 3_600_000).toISOString() };
  const numbers: string[] = [];
  for (const change of DEMO_CHANGES) {
    const body = change.body(lookup(cis, 'CI'), next, lookup(models, 'change model'));
    numbers.push(await submit(apiUrl, '/changes', personOf(people, change.requester), `demo-change-${change.requester}`, body));
  }
  const hardware = new Map<string, string>((await db('hardware_models').select('name', 'id')).map((r) => [r.name, r.id]));
  const software = new Map<string, string>((await db('software_products').select('name', 'id')).map((r) => [r.name, r.id]));
  for (const purchase of DEMO_PURCHASES) {
    const body = purchase.body(lookup(hardware, 'hardware model'), lookup(software, 'software product'));
    numbers.push(await submit(apiUrl, '/purchase-requests', personOf(people, purchase.requester), `demo-purchase-${purchase.requester}`, body));
  }
  return numbers;
}
