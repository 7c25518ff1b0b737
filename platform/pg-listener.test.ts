import net from 'node:net';
import { PgListener } from './pg-listener';
import { ProcessStateWatcher } from './process-state-watcher';

/** A "Postgres" behind a network partition: it takes the connection and never says a word. */
let silent: net.Server;
let sockets: net.Socket[] = [];
let silentUrl: string;

beforeAll(async () => {
  silent = net.createServer((socket) => { sockets.push(socket); });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `postgres://nobody@127.0.0.1:${(silent.address() as net.AddressInfo).port}/nothing`;
});

afterAll(async () => {
  sockets.forEach((socket) => socket.destroy());
  sockets = [];
  await new Promise((resolve) => silent.close(resolve));
});

const within = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
};

describe('listening when Postgres does not answer', () => {
  it('gives up connecting after its timeout, and closes within a bound', async () => {
    const listener = new PgListener({ databaseUrl: silentUrl, channel: 'nothing', onNotification: () => undefined, onLost: () => undefined, timeoutMs: 200 });
    await expect(within(2_000, listener.listen())).rejects.toThrow(/timeout/i);
    await within(2_000, listener.close());
  });

  it('holds a waiting request no longer than it asked for, counted from the request, and lets it go on close', async () => {
    const watcher = new ProcessStateWatcher(silentUrl);
    const started = Date.now();
    const first = watcher.waitFor('change:CHG1', ['closed'], 300, async () => undefined);
    const second = watcher.waitFor('change:CHG2', ['closed'], 60_000, async () => undefined);
    expect(await within(2_000, first)).toBe('timedOut');
    expect(Date.now() - started).toBeLessThan(1_500);
    await within(2_000, watcher.close());
    expect(await within(1_000, second)).toBe('woken');
  });
});
