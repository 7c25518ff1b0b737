import net from 'node:net';
import { Connection } from '@temporalio/client';
import { clientInterceptors } from './temporal';

/** A port nothing listens on: every call to it is UNAVAILABLE, which the client retries from a timer. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

it('ends a call whose retry comes after the connection closed as CANCELLED, instead of throwing out of the retry timer', async () => {
  const connection = Connection.lazy({ address: `127.0.0.1:${await deadPort()}`, interceptors: clientInterceptors() });
  const call = connection.workflowService.getSystemInfo({});
  // Past the first UNAVAILABLE, so a retry is waiting on its timer when the connection closes.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await connection.close();
  await expect(call).rejects.toMatchObject({ code: 1, details: 'the connection to Temporal was closed' });
  // Without the guard the call never settles (its retry threw instead): this fails by timing out.
}, 10_000);
