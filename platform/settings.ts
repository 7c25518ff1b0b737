import { ConfigError } from './config';

/** A role started on its own (api, worker) needs the address of each shared component spelled out. */
export function required(value: string | undefined, name: string, why: string): string {
  if (!value) throw new ConfigError(`${name} is required: ${why}`);
  return value;
}
