import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

const { IndexedValueType } = temporal.api.enums.v1;

export function searchAttributeRegistrations(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]));
}

/** Registers assetflow's search attributes on a cluster's namespace; already registered ones are left as they are. */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace });
  const missing = Object.entries(searchAttributeRegistrations()).filter(([name]) => !(customAttributes && name in customAttributes));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace: client.options.namespace,
    searchAttributes: Object.fromEntries(missing),
  });
}
