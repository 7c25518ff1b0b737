import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** A custom search attribute by name and type; `defineSearchAttributeKey` gives one. */
export interface SearchAttributeDefinition {
  readonly name: string;
  readonly type: SearchAttributeType;
}

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

const { IndexedValueType } = temporal.api.enums.v1;

export function searchAttributeRegistrations(
  keys: readonly SearchAttributeDefinition[],
): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(keys.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]));
}

/** Registers search attributes on a cluster's namespace; already registered ones are left as they are. */
export async function ensureSearchAttributes(client: Client, keys: readonly SearchAttributeDefinition[]): Promise<void> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace });
  const missing = Object.entries(searchAttributeRegistrations(keys)).filter(([name]) => !(customAttributes && name in customAttributes));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace: client.options.namespace,
    searchAttributes: Object.fromEntries(missing),
  });
}
