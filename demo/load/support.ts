/**
 * What every part of the demo loader shares: the ids given so far, a seeded PRNG, UTC dates,
 * money in minor and micro units, and chunked inserts.
 */
import type { Knex } from 'knex';
import type { ContractKey, ContractSeed, HardwareModelSeed, ModelKey, ProductKey, SoftwareProductSeed } from '../data/catalogue';
import { DOMAIN, type CostCentreCode, type GroupName } from '../data/organisation';

export type Row = Record<string, unknown>;

/** Ids given to the rows loaded so far, by their key in the demo data; `today` is the loading day at 00:00 UTC. */
export interface Context {
  today: Date;
  person: Map<string, string>;
  group: Map<GroupName, string>;
  costCentre: Map<CostCentreCode, string>;
  vendor: Map<string, string>;
  contract: Map<ContractKey, { id: string; seed: ContractSeed; startsOn: Date; endsOn: Date }>;
  model: Map<ModelKey, { id: string; seed: HardwareModelSeed }>;
  product: Map<ProductKey, { id: string; seed: SoftwareProductSeed }>;
}

const INSERT_CHUNK = 500;

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  /** An integer from min to max, both included. */
  int(min: number, max: number): number;
  chars(alphabet: string, length: number): string;
}

export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { int, chars: (alphabet, length) => Array.from({ length }, () => alphabet[int(0, alphabet.length - 1)]).join('') };
}

export const DIGITS = '0123456789';
export const UPPER_ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
export const HEX = '0123456789abcdef';
export const DAY_MS = 86_400_000;

export function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** Same day of the month, clamped to the month's last day. */
export function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay)));
}

export function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Integer division rounding down; exact for safe integers. */
export function divideDown(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator)) throw new RangeError(`${numerator} is not a safe integer`);
  return (numerator - (numerator % denominator)) / denominator;
}

export const percentOf = (amount: number, percent: number) => divideDown(amount * percent, 100);

/** Millionths of a euro as the decimal string the numeric(20,6) cost columns take. */
export function formatMicro(micro: number): string {
  if (!Number.isSafeInteger(micro) || micro < 0) throw new RangeError(`cannot format ${micro} micro-units`);
  const fraction = micro % 1_000_000;
  return `${(micro - fraction) / 1_000_000}.${String(fraction).padStart(6, '0')}`;
}

export const MICRO_PER_MINOR = 10_000;

export async function insertRows(trx: Knex.Transaction, table: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx(table).insert(rows.slice(i, i + INSERT_CHUNK));
}

export function required<K, V>(map: Map<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`demo data refers to unknown ${String(key)}`);
  return value;
}

export const hostnames = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${pad2(i + 1)}`);
export const emailOf = (login: string) => `${login}@${DOMAIN}`;
