/**
 * Who uses Northwind's software. Tableau is over-deployed (14 installs on 10 licences), Creative
 * Cloud is under-used (6 of 20 seats); every other product is compliant.
 */
import type { ProductKey } from './catalogue';
import type { AssetState } from './estate';
import { PEOPLE } from './organisation';

const everyoneBut = (...logins: string[]) => PEOPLE.map((p) => p.login).filter((login) => !logins.includes(login));

export const SEATS: { product: ProductKey; people: string[]; reclaimed?: string[] }[] = [
  { product: 'm365', people: everyoneBut() },
  { product: 'acrobat', people: ['anna.devries', 'sophie.laurent', 'hugo.lambert', 'elena.popescu', 'laura.romano', 'emma.johansson', 'liam.oconnor', 'julia.schneider', 'mateo.silva'] },
  { product: 'creative-cloud', people: ['yuki.tanaka', 'hannah.mueller', 'priya.nair', 'emma.johansson', 'liam.oconnor', 'mateo.silva'],
    reclaimed: ['julia.schneider', 'laura.romano'] },
  { product: 'jetbrains', people: ['lukas.becker', 'felix.wagner', 'aisha.khan', 'ruben.costa', 'oliver.brown', 'sara.lindqvist', 'hannah.mueller', 'admin'] },
  { product: 'jira', people: everyoneBut('anna.devries', 'laura.romano', 'elena.popescu') },
];

/** Tableau Desktop is installed on the in-use laptop of each of these people. */
export const TABLEAU_LAPTOPS = [
  'lukas.becker', 'felix.wagner', 'aisha.khan', 'ruben.costa', 'priya.nair', 'yuki.tanaka', 'hannah.mueller',
  'emma.johansson', 'liam.oconnor', 'julia.schneider', 'mateo.silva', 'sophie.laurent', 'hugo.lambert', 'elena.popescu',
];

/** Server software, by hostname prefix; units are cores for per-core products. */
export const SERVER_INSTALLS: { product: ProductKey; prefixes: string[]; units: number }[] = [
  { product: 'sql-server', prefixes: ['ams-sql'], units: 8 },
  { product: 'vsphere', prefixes: ['ams-esx', 'ber-esx'], units: 32 },
  { product: 'rhel', prefixes: ['ams-ch', 'ams-k8s', 'ams-pg', 'ams-bkp'], units: 1 },
];

/** The endpoint agent runs on every laptop, desktop and server that is still out there. */
export const ENDPOINT_AGENT: ProductKey = 'crowdstrike';
export const ENDPOINT_CATEGORIES = ['laptop', 'desktop', 'server'];
/** Software counts as installed on assets in these states (and, as reclaimed history, on retired ones). */
export const DEPLOYED_STATES: AssetState[] = ['in_use', 'in_maintenance', 'missing'];
