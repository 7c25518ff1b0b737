/**
 * Northwind's recent past: the changes its engineers made and the things it bought over the last
 * sixteen weeks, all finished, so that the dashboard's throughput, the ageing and the process
 * pages show a working organisation on the first start. The loader (demo/load/history.ts) writes
 * them as the workflows would have, with the approvals the demo's rules route them to.
 */
import type { CostCentreCode } from './organisation';

/** How far back the history reaches, and how many changes it holds (a fixed number: the live demo change numbers follow it). */
export const HISTORY_DAYS = 112;
export const HISTORY_CHANGES = 90;

export type ChangeOutcome = 'successful' | 'successful_with_issues' | 'unsuccessful' | 'rejected' | 'cancelled';
export type CiClass = 'application' | 'database' | 'virtual_machine' | 'server' | 'network_device' | 'load_balancer' | 'storage';

/** Who makes changes to which kind of CI: the requester and the implementer are two of them, never the same person. */
export const CHANGE_TEAMS: Record<'infrastructure' | 'data' | 'security', string[]> = {
  infrastructure: ['oliver.brown', 'mehmet.yilmaz', 'sara.lindqvist', 'jan.kowalski'],
  data: ['felix.wagner', 'aisha.khan', 'ruben.costa'],
  security: ['katarzyna.nowak', 'noah.schmidt'],
};

/** Who reviews unsuccessful and emergency changes; the second when the first requested the change. */
export const CHANGE_REVIEWERS = ['claire.dubois', 'marco.rossi'];

export interface ChangeStory {
  type: 'standard' | 'normal' | 'emergency';
  /** The standard change model it follows. */
  model?: string;
  team: keyof typeof CHANGE_TEAMS;
  ciClasses: CiClass[];
  /** Only CIs whose name starts with one of these. */
  namePrefixes?: string[];
  title: (ci: string) => string;
  description: (ci: string) => string;
  /** One-off cost in whole euros: a range to draw from; none when absent. */
  costEuros?: [number, number];
}

export const CHANGE_STORIES: ChangeStory[] = [
  { type: 'standard', model: 'Patch an application server', team: 'infrastructure', ciClasses: ['virtual_machine'],
    namePrefixes: ['wiki', 'intranet', 'hr-portal', 'crm', 'erp', 'invoicing', 'airflow', 'ams-log', 'ams-monitoring', 'ams-artifactory', 'ams-jump'],
    title: (ci) => `Monthly security patches for ${ci}`,
    description: (ci) => `Apply this month's operating-system security patches to ${ci} and reboot it; its partner node carries the load meanwhile.` },
  { type: 'standard', model: 'Add memory to a server', team: 'infrastructure', ciClasses: ['server'], namePrefixes: ['ams-esx', 'ams-k8s', 'ber-esx'],
    title: (ci) => `Add 256 GB of memory to ${ci}`,
    description: (ci) => `Move the workloads off ${ci}, install the vendor-approved DIMMs, run the vendor diagnostics and move the workloads back.`,
    costEuros: [1_400, 2_600] },
  { type: 'normal', team: 'infrastructure', ciClasses: ['virtual_machine'], namePrefixes: ['insights', 'auth-service', 'search', 'ams-haproxy', 'ams-ad', 'ams-vcenter'],
    title: (ci) => `Upgrade the kernel on ${ci}`,
    description: (ci) => `Move ${ci} to the current LTS kernel for the latest security fixes; the other nodes of its pool carry the load.` },
  { type: 'normal', team: 'data', ciClasses: ['application'],
    title: (ci) => `Upgrade ${ci} to its next minor release`,
    description: (ci) => `Roll out the next minor release of ${ci} node by node after it passed staging; rollback is the previous image.` },
  { type: 'normal', team: 'data', ciClasses: ['database'],
    title: (ci) => `Grow the storage of ${ci} by 50 percent`,
    description: (ci) => `${ci} reaches 80 percent of its volume within six weeks at the current rate: grow the volume online and extend the file system.`,
    costEuros: [300, 1_800] },
  { type: 'normal', team: 'security', ciClasses: ['load_balancer'],
    title: (ci) => `Rotate the TLS certificates on ${ci}`,
    description: (ci) => `Replace the certificates on ${ci} before they expire, with the new intermediate of the internal CA.` },
  { type: 'normal', team: 'infrastructure', ciClasses: ['network_device'],
    title: (ci) => `Upgrade the firmware of ${ci}`,
    description: (ci) => `Install the vendor's recommended release on ${ci}, which fixes two advisories; its redundant peer forwards meanwhile.` },
  { type: 'normal', team: 'infrastructure', ciClasses: ['storage'],
    title: (ci) => `Apply the ONTAP patch release to ${ci}`,
    description: (ci) => `Non-disruptive upgrade of ${ci} to the current ONTAP patch release, one controller at a time.` },
  { type: 'normal', team: 'data', ciClasses: ['database'], namePrefixes: ['insights-postgres', 'identity-postgres', 'airflow-postgres', 'billing-db', 'crm-db', 'hr-db', 'erp-sql', 'finance-dwh'],
    title: (ci) => `Enable point-in-time recovery on ${ci}`,
    description: (ci) => `Turn on continuous archiving for ${ci} so that it can be restored to any moment of the last 14 days.`,
    costEuros: [100, 600] },
  { type: 'emergency', team: 'infrastructure', ciClasses: ['server'],
    title: (ci) => `Replace the failed disk in ${ci}`,
    description: (ci) => `A disk of ${ci} failed and the array is degraded; replace it before a second one fails.`,
    costEuros: [300, 900] },
  { type: 'emergency', team: 'data', ciClasses: ['database'],
    title: (ci) => `Fail ${ci} over to its replica`,
    description: (ci) => `The primary of ${ci} stopped answering writes; promote the replica and rebuild the old primary.` },
  { type: 'emergency', team: 'security', ciClasses: ['load_balancer', 'virtual_machine'], namePrefixes: ['lb-', 'agw-', 'ams-haproxy', 'auth-service'],
    title: (ci) => `Block an actively exploited request pattern on ${ci}`,
    description: (ci) => `A published exploit is being tried against us: add the vendor's mitigation rule on ${ci} until the patch is out.` },
];

/** How often each type occurs, and how its changes ended, in percent (the rest is successful). */
export const CHANGE_TYPE_SHARE = { standard: 42, normal: 45, emergency: 13 };
export const CHANGE_ENDINGS: Record<ChangeStory['type'], Partial<Record<Exclude<ChangeOutcome, 'successful'>, number>>> = {
  standard: { successful_with_issues: 6, unsuccessful: 3, cancelled: 3 },
  normal: { successful_with_issues: 9, unsuccessful: 5, rejected: 10, cancelled: 8 },
  emergency: { successful_with_issues: 15, unsuccessful: 10 },
};

/** What an approver writes when rejecting. */
export const REJECTION_COMMENTS = [
  'Not in the quarter-end week: plan it for the next maintenance window.',
  'The backout plan is missing; add it and submit again.',
  'Too many changes on this service this week; please wait for the next window.',
  'Not funded this quarter.',
];

export const CANCELLATION_REASONS = [
  'The vendor withdrew the release; we wait for the next one.',
  'Done together with another change instead.',
  'No longer needed after the capacity review.',
];

/** Items bought off the catalogue: accessories and spare parts, not tracked as assets. */
export interface AccessoryStory {
  description: string;
  vendor: string;
  unitPriceMinor: number;
  quantity: [number, number];
  requester: string;
  costCentre: CostCentreCode;
  justification: string;
}

export const ACCESSORY_STORIES: AccessoryStory[] = [
  { description: 'Dell WD22TB4 Thunderbolt dock', vendor: 'Dell Technologies', unitPriceMinor: 27_900, quantity: [3, 8], requester: 'fatima.elamrani', costCentre: 'CC-1000',
    justification: 'Docks for the hot desks on the second floor.' },
  { description: 'Dell KM7321W keyboard and mouse set', vendor: 'Dell Technologies', unitPriceMinor: 8_900, quantity: [5, 12], requester: 'daan.visser', costCentre: 'CC-1000',
    justification: 'Service desk spares: the stock of keyboards ran out.' },
  { description: 'Apple USB-C to MagSafe 3 cable (2 m)', vendor: 'Apple', unitPriceMinor: 5_900, quantity: [4, 10], requester: 'chloe.martin', costCentre: 'CC-1000',
    justification: 'Spare chargers for the MacBook users.' },
  { description: 'Cisco SFP-10G-SR transceiver', vendor: 'Cisco Systems', unitPriceMinor: 39_500, quantity: [2, 6], requester: 'mehmet.yilmaz', costCentre: 'CC-1000',
    justification: 'Spare optics for the data-centre leaf switches.' },
  { description: 'HPE 1.92 TB SAS SSD', vendor: 'Hewlett Packard Enterprise', unitPriceMinor: 89_000, quantity: [2, 4], requester: 'sara.lindqvist', costCentre: 'CC-1000',
    justification: 'Cold spares for the ProLiant SQL servers.' },
  { description: 'Dell 32 GB DDR5 RDIMM', vendor: 'Dell Technologies', unitPriceMinor: 21_500, quantity: [8, 16], requester: 'oliver.brown', costCentre: 'CC-1000',
    justification: 'Memory for the PowerEdge hosts, installed under the standard change model.' },
  { description: 'Dell UltraSharp monitor arm', vendor: 'Dell Technologies', unitPriceMinor: 14_900, quantity: [2, 6], requester: 'hannah.mueller', costCentre: 'CC-5000',
    justification: 'Monitor arms for the product team\'s dual-screen desks.' },
];

/** Requests that did not end in a delivery: rejected by an approver or the budget, or cancelled by their requester. */
export interface UnboughtStory {
  model: 'latitude' | 'thinkpad' | 'macbook' | 'optiplex' | 'ultrasharp' | 'iphone' | 'r760' | 'dl380';
  quantity: number;
  requester: string;
  costCentre: CostCentreCode;
  justification: string;
  ending: 'rejected' | 'cancelled';
}

export const UNBOUGHT_STORIES: UnboughtStory[] = [
  { model: 'r760', quantity: 2, requester: 'jan.kowalski', costCentre: 'CC-1000', ending: 'rejected', justification: 'Two more hypervisors for the Kubernetes cluster growth next year.' },
  { model: 'macbook', quantity: 3, requester: 'emma.johansson', costCentre: 'CC-4000', ending: 'rejected', justification: 'MacBooks for the sales team instead of their Latitudes.' },
  { model: 'ultrasharp', quantity: 6, requester: 'felix.wagner', costCentre: 'CC-2000', ending: 'cancelled', justification: 'Second screens for the data engineers.' },
  { model: 'iphone', quantity: 2, requester: 'mateo.silva', costCentre: 'CC-4000', ending: 'rejected', justification: 'Work phones for the two customer success interns.' },
  { model: 'dl380', quantity: 1, requester: 'sara.lindqvist', costCentre: 'CC-1000', ending: 'cancelled', justification: 'A replacement for ams-sql-07 while it is in repair.' },
  { model: 'latitude', quantity: 4, requester: 'laura.romano', costCentre: 'CC-3000', ending: 'rejected', justification: 'Laptops for four new starters in finance, before their contracts are signed.' },
  { model: 'optiplex', quantity: 2, requester: 'elena.popescu', costCentre: 'CC-3000', ending: 'cancelled', justification: 'Desktops for the Lisbon accounting desk.' },
  { model: 'thinkpad', quantity: 1, requester: 'ruben.costa', costCentre: 'CC-2000', ending: 'cancelled', justification: 'A second laptop for on-call weeks.' },
  { model: 'macbook', quantity: 1, requester: 'yuki.tanaka', costCentre: 'CC-5000', ending: 'rejected', justification: 'A faster MacBook for video editing.' },
];

/** Who receives deliveries, by the site the goods go to. */
export const RECEIVERS = { lisbon: 'ana.ferreira', elsewhere: 'pieter.jansen', stand_in: 'ana.ferreira' };
