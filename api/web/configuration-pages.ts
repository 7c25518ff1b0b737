/**
 * Configuration in the web UI, for process owners and admins: the index, and the approval rules —
 * their list, a rule's form (the condition as JSON), its saved versions, and the preview of who
 * would approve a request. The forms are checked by the JSON API's schemas and written by the same
 * model functions (model/approval-rules.ts), so a refusal reads the same: in a summary at the top
 * that links to each field, and next to the field, which is marked invalid. An edit carries the
 * version it was made on; one made on a version someone changed since writes nothing and shows
 * the rule as it is now.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import {
  APPROVAL_POLICIES,
  APPROVAL_PROCESSES,
  APPROVER_KINDS,
  EXPIRY_ACTIONS,
  ruleConditionFor,
  type ApprovalProcess,
} from '../../domain/approval-routing';
import { CHANGE_TYPES, CRITICALITIES } from '../../domain/change-impact';
import { RISK_LEVELS } from '../../domain/change-risk';
import {
  approvalRuleVersions,
  createApprovalRule,
  findApprovalRule,
  listApprovalRules,
  previewApprovals,
  updateApprovalRule,
  type ApprovalPreview,
  type ApprovalRuleDetail,
} from '../../model/approval-rules';
import { groupChoices } from '../../model/groups';
import { hasAnyRole } from '../auth';
import { HttpError, toHttpError } from '../errors';
import { RULE_WRITERS, approvalRuleCreate, approvalRuleHttpError, approvalPreviewBody, approvalRuleUpdate } from '../routes/approval-rules';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

const RULES = '/configuration/approval-rules';
const RULES_HREF = `/ui${RULES}`;

export const CONFIGURATION_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/configuration', access: RULE_WRITERS },
  { method: 'get', path: RULES, access: RULE_WRITERS },
  { method: 'get', path: `${RULES}/new`, access: RULE_WRITERS },
  { method: 'post', path: RULES, access: RULE_WRITERS },
  { method: 'get', path: `${RULES}/preview`, access: RULE_WRITERS },
  { method: 'post', path: `${RULES}/preview`, access: RULE_WRITERS },
  { method: 'get', path: `${RULES}/:id`, access: RULE_WRITERS },
  { method: 'post', path: `${RULES}/:id`, access: RULE_WRITERS },
  { method: 'get', path: `${RULES}/:id/versions`, access: RULE_WRITERS },
];

// ---------------------------------------------------------------------------------------------
// Form fields and problems
// ---------------------------------------------------------------------------------------------

/** The first string of a form field or query parameter. */
const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

/** A problem with a form, at the field it names ("form" for the whole). */
interface Problem {
  field: string;
  message: string;
}

/** Problems from the API's answer (zod issues or a refusal's details): each at the field its path starts with, the rest of the path kept in the message. */
function problemsOf(known: HttpError, fieldOfPath: (path: string) => string): Problem[] {
  const details = Array.isArray(known.details) ? (known.details as { path: string; message: string }[]) : [];
  if (details.length === 0) return [{ field: 'form', message: known.message }];
  return details.map((d) => {
    const field = fieldOfPath(d.path);
    const rest = d.path.startsWith(`${field}.`) ? d.path.slice(field.length + 1) : '';
    return { field, message: rest ? `${rest}: ${d.message}` : d.message };
  });
}

const zodProblems = (error: z.ZodError, fieldOfPath: (path: string) => string) =>
  problemsOf(new HttpError(400, 'invalid_input', 'bad input', error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))), fieldOfPath);

/** Refusals a form shows next to itself; anything else (a 5xx) goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = toHttpError(approvalRuleHttpError(error));
  if (!known || known.status >= 500) throw error;
  return known;
}

const fieldId = (field: string) => `f-${field}`;

/** The problems at the top of a refused form, each linking to its field; it takes the focus when the page loads. */
function errorSummary(problems: Problem[], labels: Record<string, string>, what = 'Nothing was saved'): SafeHtml {
  if (!problems.length) return html``;
  const items = problems.map((p) => (labels[p.field]
    ? html`<li><a href="#${fieldId(p.field)}">${labels[p.field]}: ${p.message}</a></li>`
    : html`<li>${p.message}</li>`));
  return html`<div class="notice error" id="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title">
<h2 id="error-summary-title">${what}: ${problems.length === 1 ? 'there is a problem' : `there are ${problems.length} problems`}</h2>
<ul>${items}</ul>
</div>`;
}

/** A field's label, its problems (announced with it) and hint, around its control. */
function field(name: string, text: string, problems: Problem[], control: (attributes: SafeHtml) => SafeHtml, hint?: SafeHtml | string): SafeHtml {
  const id = fieldId(name);
  const mine = problems.filter((p) => p.field === name);
  const errorId = mine.length > 0 && `${id}-error`;
  const hintId = hint && `${id}-hint`;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ');
  const attributes = html` id="${id}" name="${name}"${errorId && html` aria-invalid="true"`}${describedBy && html` aria-describedby="${describedBy}"`}`;
  return html`<div><label for="${id}">${text}</label>
${errorId && html`<p id="${errorId}" class="notice error">${join(mine.map((p) => p.message), html`<br>`)}</p>`}
${control(attributes)}
${hint && html`<p id="${hintId}" class="meta">${hint}</p>`}</div>`;
}

const options = (values: readonly (string | [string, string])[], chosen: string) =>
  values.map((v) => {
    const [value, text] = typeof v === 'string' ? [v, label(v)] : v;
    return html`<option value="${value}"${value === chosen && html` selected`}>${text}</option>`;
  });

const textInput = (value: string, extra: SafeHtml = html``) => (attributes: SafeHtml) => html`<input${attributes} value="${value}"${extra}>`;
const selectOf = (values: readonly (string | [string, string])[], chosen: string) => (attributes: SafeHtml) => html`<select${attributes}>${options(values, chosen)}</select>`;
const textareaOf = (value: string, rows: number) => (attributes: SafeHtml) => html`<textarea${attributes} rows="${rows}" spellcheck="false">${value}</textarea>`;

/** A whole number as typed; anything else goes to the schema as it is, to be refused there with its message. */
function numberOf(text: string): number | string | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^-?\d{1,15}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** JSON as typed, or the problem with it at `fieldName`. */
function jsonOf(text: string, fieldName: string, problems: Problem[]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push({ field: fieldName, message: `not valid JSON (${(error as Error).message})` });
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The rule form
// ---------------------------------------------------------------------------------------------

interface RuleFormValues {
  process: string;
  stepOrder: string;
  name: string;
  appliesWhen: string;
  approverKind: string;
  group: string;
  policy: string;
  quorum: string;
  onExpiry: string;
  active: boolean;
}

const RULE_LABELS: Record<string, string> = {
  process: 'Process',
  stepOrder: 'Step',
  name: 'Name',
  appliesWhen: 'Condition (JSON)',
  approverKind: 'Who approves',
  group: 'Group',
  policy: 'Policy',
  quorum: 'Quorum',
  onExpiry: 'When the step expires',
  active: 'Active',
};

const ruleFieldOf = (path: string) => {
  const first = path.split('.')[0];
  return first in RULE_LABELS ? first : 'form';
};

function ruleFormOf(body: Record<string, unknown>): RuleFormValues {
  return {
    process: str(body.process) ?? 'change',
    stepOrder: str(body.stepOrder) ?? '',
    name: str(body.name) ?? '',
    appliesWhen: str(body.appliesWhen) ?? '{}',
    approverKind: str(body.approverKind) ?? 'manager',
    group: str(body.group) ?? '',
    policy: str(body.policy) ?? 'any',
    quorum: str(body.quorum) ?? '',
    onExpiry: str(body.onExpiry) ?? 'reject',
    active: str(body.active) === 'yes',
  };
}

function ruleFormFrom(rule: ApprovalRuleDetail): RuleFormValues {
  return {
    process: rule.process,
    stepOrder: String(rule.stepOrder),
    name: rule.name,
    appliesWhen: JSON.stringify(rule.appliesWhen, null, 2),
    approverKind: rule.approverKind,
    group: rule.group ?? '',
    policy: rule.policy,
    quorum: rule.quorum === null ? '' : String(rule.quorum),
    onExpiry: rule.onExpiry,
    active: rule.active,
  };
}

/** The form's fields as the API takes them; the JSON of the condition is read here, its problems reported like the API's. */
function ruleInputOf(values: RuleFormValues, problems: Problem[]) {
  return {
    stepOrder: numberOf(values.stepOrder),
    name: values.name,
    appliesWhen: jsonOf(values.appliesWhen, 'appliesWhen', problems),
    approverKind: values.approverKind,
    group: values.group.trim() === '' ? null : values.group,
    policy: values.policy,
    quorum: numberOf(values.quorum),
    onExpiry: values.onExpiry,
    active: values.active,
  };
}

const PROCESS_NAMES: Record<ApprovalProcess, string> = { change: 'Change', procurement: 'Purchase (procurement)', reconciliation: 'Steward case (reconciliation)', renewal: 'Contract renewal' };

function conditionHint(process: string): SafeHtml {
  const keys = APPROVAL_PROCESSES.includes(process as ApprovalProcess) ? ruleConditionFor(process as ApprovalProcess).keys : [];
  if (keys.length === 0) return html`A ${process} rule takes no condition: its subject has no cost, risk or type to ask about. Leave <code>{}</code>, which always applies.`;
  return html`Keys that must all hold; <code>{}</code> always applies. A ${process} rule may use: ${keys.join(', ')}. For example <code>{"minRiskLevel": "high"}</code> or <code>{"anyOf": [{"minCostMinor": 1000000}, {"overBudget": true}]}</code>. Money is in minor units (cents).`;
}

function ruleFields(values: RuleFormValues, problems: Problem[], groups: { name: string; active: boolean }[], creating: boolean): SafeHtml {
  const groupOptions: [string, string][] = [['', 'none (not a group rule)'], ...groups.map((g): [string, string] => [g.name, `${g.name}${g.active ? '' : ' (inactive)'}`])];
  if (values.group && !groupOptions.some(([name]) => name === values.group)) groupOptions.push([values.group, values.group]);
  return html`<div class="grid2"><div>
${creating
    ? field('process', RULE_LABELS.process, problems, selectOf(APPROVAL_PROCESSES.map((p): [string, string] => [p, PROCESS_NAMES[p]]), values.process))
    : html`<input type="hidden" name="process" value="${values.process}">`}
${field('stepOrder', RULE_LABELS.stepOrder, problems, textInput(values.stepOrder, html` inputmode="numeric" required size="4"`), 'Steps run in this order, 1 first; rules of one step in name order.')}
${field('name', RULE_LABELS.name, problems, textInput(values.name, html` required maxlength="100" size="40"`))}
${field('approverKind', RULE_LABELS.approverKind, problems, selectOf(APPROVER_KINDS, values.approverKind))}
${field('group', RULE_LABELS.group, problems, selectOf(groupOptions, values.group), 'For a group rule: the group whose members approve.')}
${field('policy', RULE_LABELS.policy, problems, selectOf(APPROVAL_POLICIES, values.policy), 'any: one approval; all: every approver; quorum: the number below.')}
${field('quorum', RULE_LABELS.quorum, problems, textInput(values.quorum, html` inputmode="numeric" size="4"`), 'Approvals needed, for the quorum policy only.')}
${field('onExpiry', RULE_LABELS.onExpiry, problems, selectOf(EXPIRY_ACTIONS, values.onExpiry))}
<div class="check"><input id="${fieldId('active')}" name="active" type="checkbox" value="yes"${values.active && html` checked`} aria-describedby="${fieldId('active')}-hint"> <label for="${fieldId('active')}">${RULE_LABELS.active}</label></div>
<p id="${fieldId('active')}-hint" class="meta">A retired rule routes nothing more; it is kept with its versions.</p>
</div><div>
${field('appliesWhen', RULE_LABELS.appliesWhen, problems, textareaOf(values.appliesWhen, 12), conditionHint(values.process))}
</div></div>`;
}

// ---------------------------------------------------------------------------------------------
// The preview form
// ---------------------------------------------------------------------------------------------

interface PreviewFormValues {
  number: string;
  process: string;
  requesterEmail: string;
  costCentre: string;
  costMinor: string;
  changeType: string;
  riskLevel: string;
  highestCriticality: string;
  overBudget: string;
  newVendor: string;
  offCatalogue: string;
  /** One CI a line: "class: name". */
  affectedCis: string;
  rules: 'current' | 'proposed';
  /** A rule, or a list of rules, as JSON: one with an id replaces that rule. */
  proposed: string;
}

const PREVIEW_LABELS: Record<string, string> = {
  number: 'Request number',
  process: 'Process',
  requesterEmail: 'Requester\'s email',
  costCentre: 'Cost centre',
  costMinor: 'Cost (minor units)',
  changeType: 'Change type',
  riskLevel: 'Risk level',
  highestCriticality: 'Highest criticality',
  overBudget: 'Over budget',
  newVendor: 'New vendor',
  offCatalogue: 'Off catalogue',
  affectedCis: 'Affected CIs',
  proposed: 'Proposed rules (JSON)',
};

const previewFieldOf = (path: string) => {
  const [first, second] = path.split('.');
  if (first === 'subject' && second && second in PREVIEW_LABELS) return second;
  return first in PREVIEW_LABELS ? first : 'form';
};

function previewFormOf(body: Record<string, unknown>): PreviewFormValues {
  const value = (name: string) => str(body[name]) ?? '';
  return {
    number: value('number'),
    process: value('process') || 'change',
    requesterEmail: value('requesterEmail'),
    costCentre: value('costCentre'),
    costMinor: value('costMinor'),
    changeType: value('changeType'),
    riskLevel: value('riskLevel'),
    highestCriticality: value('highestCriticality'),
    overBudget: value('overBudget'),
    newVendor: value('newVendor'),
    offCatalogue: value('offCatalogue'),
    affectedCis: value('affectedCis'),
    rules: value('rules') === 'proposed' ? 'proposed' : 'current',
    proposed: value('proposed'),
  };
}

/** A rule as the preview takes it to replace the stored one: its id and the fields people edit, to be edited. */
const proposedJsonOf = (r: ApprovalRuleDetail) => JSON.stringify([{
  id: r.id, stepOrder: r.stepOrder, name: r.name, appliesWhen: r.appliesWhen, approverKind: r.approverKind,
  group: r.group, policy: r.policy, quorum: r.quorum, onExpiry: r.onExpiry, active: r.active,
}], null, 2);

/** The preview's request as the API takes it; problems with what cannot even be read are added to `problems`. */
function previewInputOf(values: PreviewFormValues, problems: Problem[]): Record<string, unknown> {
  const flag = (text: string) => (text === '' ? undefined : text === 'true');
  const optional = (text: string) => (text.trim() === '' ? undefined : text.trim());
  const cis = values.affectedCis.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const colon = line.indexOf(':');
    return colon < 0 ? { ciClass: '', name: line } : { ciClass: line.slice(0, colon).trim(), name: line.slice(colon + 1).trim() };
  });
  let proposed: unknown;
  if (values.rules === 'proposed') {
    const parsed = jsonOf(values.proposed, 'proposed', problems);
    proposed = parsed === undefined ? undefined : Array.isArray(parsed) ? parsed : [parsed];
  }
  const change = values.process === 'change';
  return {
    ...(values.number.trim()
      ? { number: values.number }
      : {
          process: values.process,
          subject: {
            requesterEmail: values.requesterEmail,
            costCentre: optional(values.costCentre),
            costMinor: numberOf(values.costMinor) ?? 0,
            ...(change
              ? {
                  changeType: optional(values.changeType),
                  riskLevel: optional(values.riskLevel),
                  highestCriticality: optional(values.highestCriticality),
                  affectedCis: cis.length ? cis : undefined,
                }
              : { newVendor: flag(values.newVendor), offCatalogue: flag(values.offCatalogue) }),
            overBudget: flag(values.overBudget),
          },
        }),
    ...(proposed !== undefined ? { proposed } : {}),
  };
}

const yesNo = (chosen: string) => selectOf([['', 'not given (no)'], ['true', 'yes'], ['false', 'no']], chosen);

function previewFields(values: PreviewFormValues, problems: Problem[]): SafeHtml {
  const maybe = (list: readonly string[], none: string): [string, string][] => [['', none], ...list.map((v): [string, string] => [v, label(v)])];
  return html`<fieldset><legend>An existing request</legend>
${field('number', PREVIEW_LABELS.number, problems, textInput(values.number, html` size="12" maxlength="12"`), 'CHG0001001 or PR0001001: planned from what its assessment stored. Leave it empty to describe a request instead.')}
</fieldset>
<fieldset><legend>Or a request not made yet</legend>
<div class="grid2"><div>
${field('process', PREVIEW_LABELS.process, problems, selectOf([['change', 'Change'], ['procurement', 'Purchase (procurement)']], values.process))}
${field('requesterEmail', PREVIEW_LABELS.requesterEmail, problems, textInput(values.requesterEmail, html` type="email" size="32" maxlength="254"`))}
${field('costCentre', PREVIEW_LABELS.costCentre, problems, textInput(values.costCentre, html` size="12" maxlength="32"`), 'Its owner may approve; leave empty for none.')}
${field('costMinor', PREVIEW_LABELS.costMinor, problems, textInput(values.costMinor, html` inputmode="numeric" size="14"`), 'In cents: 125000 is 1,250.00.')}
${field('overBudget', PREVIEW_LABELS.overBudget, problems, yesNo(values.overBudget))}
</div><div>
<p class="meta">For a change:</p>
${field('changeType', PREVIEW_LABELS.changeType, problems, selectOf(maybe(CHANGE_TYPES, 'not given (normal)'), values.changeType))}
${field('riskLevel', PREVIEW_LABELS.riskLevel, problems, selectOf(maybe(RISK_LEVELS, 'not given (low)'), values.riskLevel))}
${field('highestCriticality', PREVIEW_LABELS.highestCriticality, problems, selectOf(maybe(CRITICALITIES, 'from the affected CIs'), values.highestCriticality))}
${field('affectedCis', PREVIEW_LABELS.affectedCis, problems, textareaOf(values.affectedCis, 3), 'One a line, as class: name, e.g. "server: srv-app-01": the owners of their services and assets may approve.')}
<p class="meta">For a purchase:</p>
${field('newVendor', PREVIEW_LABELS.newVendor, problems, yesNo(values.newVendor))}
${field('offCatalogue', PREVIEW_LABELS.offCatalogue, problems, yesNo(values.offCatalogue))}
</div></div>
</fieldset>
<fieldset><legend>Rules</legend>
<div class="check"><input id="rules-current" name="rules" type="radio" value="current"${values.rules === 'current' && html` checked`}> <label for="rules-current">The rules as they are</label></div>
<div class="check"><input id="rules-proposed" name="rules" type="radio" value="proposed"${values.rules === 'proposed' && html` checked`}> <label for="rules-proposed">With the proposed rules below</label></div>
${field('proposed', PREVIEW_LABELS.proposed, problems, textareaOf(values.proposed, 10), 'A rule or a list of rules, as the API takes them: one with the id of a rule replaces it ("active": false leaves it out), one without is added. Checked as on save; nothing is saved.')}
</fieldset>`;
}

function previewResult(preview: ApprovalPreview): SafeHtml {
  const s = preview.subject;
  const facts = [
    ['Requester', `${preview.requester.name} (${preview.requester.email})`],
    ['Cost', `${s.costMinor} minor units`],
    ...(preview.process === 'change'
      ? [['Change type', s.changeType ?? '–'], ['Risk level', s.riskLevel ?? '–'], ['Highest criticality', s.highestCriticality ?? 'none']]
      : [['New vendor', s.newVendor ? 'yes' : 'no'], ['Off catalogue', s.offCatalogue ? 'yes' : 'no']]),
    ['Over budget', s.overBudget ? 'yes' : 'no'],
  ];
  const steps = preview.steps.map((step) => html`<tr>
<td class="num">${step.step}</td>
<th scope="row">${step.rule.id ? html`<a href="${RULES_HREF}/${step.rule.id}">${step.rule.name}</a>` : step.rule.name} <span class="meta">${step.rule.version === 'proposed' ? 'proposed' : `version ${step.rule.version}`}</span></th>
<td>${step.policy}, ${step.required} required</td>
<td>${step.approvers.length
    ? html`<ul>${step.approvers.map((a) => html`<li>${a.name} <span class="meta">${a.email}${a.delegatedFrom && ` · for ${a.delegatedFrom.name}`}</span></li>`)}</ul>`
    : html`<span class="breached">nobody</span>`}</td>
<td>${step.notes.join('; ')}</td>
</tr>`);
  return html`<section aria-labelledby="result-heading"><h2 id="result-heading">Who would approve ${preview.number ?? 'this request'}</h2>
<dl class="summary">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${preview.refusal && html`<p class="notice error" role="alert">${preview.refusal}</p>`}
${preview.rulesWithUnknownConditions.length > 0 && html`<p class="notice error">These rules have a condition routing cannot read and apply to nothing: ${preview.rulesWithUnknownConditions.join(', ')}.</p>`}
${steps.length
    ? html`<table><caption class="sr-only">Planned approval steps</caption>
<thead><tr><th scope="col" class="num">Step</th><th scope="col">Rule</th><th scope="col">Policy</th><th scope="col">Approvers</th><th scope="col">Notes</th></tr></thead>
<tbody>${join(steps, '\n')}</tbody></table>`
    : html`<p role="status">No rule applies: nobody would be asked, and the request would go on unapproved.</p>`}
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

function indexPage(ctx: ViewContext): SafeHtml {
  return layout(ctx, 'Configuration', html`<h1>Configuration</h1>
<ul>
<li><a href="${RULES_HREF}">Approval rules</a>: who approves which changes and purchases, each save kept as a version.</li>
<li><a href="${RULES_HREF}/preview">Who would approve?</a> A request, existing or imagined, under the rules as they are or as proposed.</li>
<li><a href="/ui/configuration/process-settings">Process settings</a>: change models, SLA targets, maintenance and blackout windows, reminder days.</li>
</ul>`);
}

const listQuery = z.object({
  process: z.enum(['', ...APPROVAL_PROCESSES]).catch(''),
  active: z.enum(['', 'true', 'false']).catch('true'),
  limit: z.coerce.number().int().min(1).max(200).catch(100),
  offset: z.coerce.number().int().min(0).catch(0),
});

function rulesListPage(ctx: ViewContext, values: z.output<typeof listQuery>, result: Awaited<ReturnType<typeof listApprovalRules>>, message?: Notice): SafeHtml {
  const rows = result.items.map((r) => html`<tr>
<td>${r.process}</td>
<td class="num">${r.stepOrder}</td>
<th scope="row"><a href="${RULES_HREF}/${r.id}">${r.name}</a></th>
<td><code>${JSON.stringify(r.appliesWhen)}</code></td>
<td>${label(r.approverKind)}${r.group && ` (${r.group})`}</td>
<td>${r.policy}${r.quorum !== null && ` ${r.quorum}`}</td>
<td class="num">${r.version}</td>
<td>${r.active ? 'active' : html`<span class="breached">retired</span>`}</td>
</tr>`);
  const table = rows.length
    ? html`<table><caption class="sr-only">Approval rules</caption>
<thead><tr><th scope="col">Process</th><th scope="col" class="num">Step</th><th scope="col">Name</th><th scope="col">Condition</th><th scope="col">Who approves</th><th scope="col">Policy</th><th scope="col" class="num">Version</th><th scope="col">Status</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>`
    : html`<p>No rule matches.</p>`;
  return layout(ctx, 'Approval rules', html`<p class="meta"><a href="/ui/configuration">← Configuration</a></p>
<h1>Approval rules</h1>
${notice(message)}
<p><a href="${RULES_HREF}/new">Add a rule</a> · <a href="${RULES_HREF}/preview">Who would approve?</a></p>
<form class="filters" method="get" action="${RULES_HREF}" role="search" aria-label="Filter approval rules">
<div><label for="q-process">Process</label><select id="q-process" name="process">${options([['', 'any'], ...APPROVAL_PROCESSES.map((p): [string, string] => [p, p])], values.process)}</select></div>
<div><label for="q-active">Status</label><select id="q-active" name="active">${options([['', 'either'], ['true', 'active'], ['false', 'retired']], values.active)}</select></div>
<div><button type="submit">Filter</button></div>
</form>
${table}
${pager(result.page, RULES_HREF, { process: values.process || undefined, active: values.active || undefined })}`);
}

/** Sends the form as it is edited to the preview, unsaved, as a proposed rule. */
const previewEditButton = html`<button type="submit" class="secondary" formaction="${RULES_HREF}/preview" name="intent" value="preview-edit">Who would approve with this edit?</button>`;

function newRulePage(ctx: ViewContext, input: { values: RuleFormValues; problems: Problem[]; groups: { name: string; active: boolean }[] }): SafeHtml {
  return layout(ctx, 'Add an approval rule', html`<p class="meta"><a href="${RULES_HREF}">← Approval rules</a></p>
<h1>Add an approval rule</h1>
${errorSummary(input.problems, RULE_LABELS)}
<form method="post" action="${RULES_HREF}" novalidate>
${csrfField(ctx.csrf)}
${ruleFields(input.values, input.problems, input.groups, true)}
<div class="actions"><button type="submit">Add the rule</button> ${previewEditButton}</div>
</form>`);
}

function rulePage(ctx: ViewContext, input: { rule: ApprovalRuleDetail; values: RuleFormValues; version: number; problems: Problem[]; notice?: Notice; groups: { name: string; active: boolean }[] }): SafeHtml {
  const r = input.rule;
  return layout(ctx, r.name, html`<p class="meta"><a href="${RULES_HREF}">← Approval rules</a></p>
<h1>${r.name}</h1>
<p class="meta">${r.process} rule · step ${r.stepOrder} · ${r.active ? 'active' : 'retired'} · version <span id="rule-version">${r.version}</span>, saved by ${r.updatedBy} ${time(r.updatedAt, ctx.timeZone)}</p>
<p><a href="${RULES_HREF}/${r.id}/versions">Every version</a> · <a href="${RULES_HREF}/preview${queryString({ rule: r.id })}">Who would approve with an edited copy of this rule?</a></p>
${notice(input.notice)}
${errorSummary(input.problems, RULE_LABELS)}
<form method="post" action="${RULES_HREF}/${r.id}" novalidate>
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}"><input type="hidden" name="ruleId" value="${r.id}">
${ruleFields(input.values, input.problems, input.groups, false)}
<div class="actions"><button type="submit">Save</button> ${previewEditButton}</div>
</form>`);
}

function versionsPage(ctx: ViewContext, rule: ApprovalRuleDetail, versions: NonNullable<Awaited<ReturnType<typeof approvalRuleVersions>>>): SafeHtml {
  const rows = versions.map((v) => html`<tr>
<td class="num">${v.version}</td>
<td>${v.savedBy}</td>
<td>${time(v.savedAt, ctx.timeZone)}</td>
<td>step ${v.rule.stepOrder} · ${v.rule.name} · ${label(v.rule.approverKind)}${v.rule.group && ` (${v.rule.group})`} · ${v.rule.policy}${v.rule.quorum !== null && ` ${v.rule.quorum}`} · on expiry ${v.rule.onExpiry} · ${v.rule.active ? 'active' : 'retired'}</td>
<td><code>${JSON.stringify(v.rule.appliesWhen)}</code></td>
</tr>`);
  return layout(ctx, `Versions of ${rule.name}`, html`<p class="meta"><a href="${RULES_HREF}/${rule.id}">← ${rule.name}</a></p>
<h1>Versions of ${rule.name}</h1>
<p>Each save is kept as it was saved; an approval names the version that routed it.</p>
<table><caption class="sr-only">Saved versions, newest first</caption>
<thead><tr><th scope="col" class="num">Version</th><th scope="col">Saved by</th><th scope="col">Saved</th><th scope="col">Rule</th><th scope="col">Condition</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>`);
}

function previewPage(ctx: ViewContext, input: { values: PreviewFormValues; problems: Problem[]; preview?: ApprovalPreview }): SafeHtml {
  return layout(ctx, 'Who would approve?', html`<p class="meta"><a href="${RULES_HREF}">← Approval rules</a></p>
<h1>Who would approve?</h1>
<p>Plans a request as its workflow would, under the rules as they are or as proposed. Nothing is saved or sent.</p>
${errorSummary(input.problems, PREVIEW_LABELS, 'No preview')}
<form method="post" action="${RULES_HREF}/preview" novalidate>
${csrfField(ctx.csrf)}
${previewFields(input.values, input.problems)}
<div class="actions"><button type="submit">Show the approvers</button></div>
</form>
${input.preview && previewResult(input.preview)}`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

const versionField = z.coerce.number().int().min(1).max(2 ** 31 - 1);

const RULE_DONE: Record<string, string> = {
  created: 'The rule is added as version 1.',
  saved: 'Saved as a new version.',
  unchanged: 'Nothing was different, so nothing was changed.',
};

export function registerConfigurationPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  /** The page context for a process owner or admin, or a 403 page (and undefined) for anyone else. */
  async function writerContext(res: Response): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'configuration');
    if (hasAnyRole(ctx.user, RULE_WRITERS)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'Configuration is kept by process owners and admins.', [['/ui/processes', 'Processes']]));
    return undefined;
  }

  const groups = () => groupChoices(db);

  /** The rule of the path, or a 404 page (and undefined). */
  async function ruleOf(req: Request, res: Response, ctx: ViewContext): Promise<ApprovalRuleDetail | undefined> {
    const rule = await findApprovalRule(db, String(req.params.id));
    if (!rule) sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such approval rule; nothing was changed.', [[RULES_HREF, 'Approval rules']]));
    return rule;
  }

  router.get('/configuration', async (_req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    sendHtml(res, 200, indexPage(ctx));
  });

  router.get(RULES, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = listQuery.parse({ process: str(req.query.process), active: str(req.query.active) ?? 'true', limit: str(req.query.limit), offset: str(req.query.offset) });
    const result = await listApprovalRules(db, {
      process: values.process || undefined,
      active: values.active === '' ? undefined : values.active === 'true',
    }, values);
    sendHtml(res, 200, rulesListPage(ctx, values, result));
  });

  router.get(`${RULES}/new`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = ruleFormOf({ process: str(req.query.process), active: 'yes' });
    sendHtml(res, 200, newRulePage(ctx, { values, problems: [], groups: await groups() }));
  });

  router.post(RULES, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = ruleFormOf(req.body ?? {});
    const again = async (status: number, problems: Problem[]) => sendHtml(res, status, newRulePage(ctx, { values, problems, groups: await groups() }));
    const problems: Problem[] = [];
    const input = approvalRuleCreate.safeParse({ process: values.process, ...ruleInputOf(values, problems) });
    if (problems.length || !input.success) {
      await again(400, [...problems, ...(input.success ? [] : zodProblems(input.error, ruleFieldOf))]);
      return;
    }
    try {
      const rule = await createApprovalRule(db, input.data, ctx.user.email);
      res.redirect(303, `${RULES_HREF}/${rule.id}${queryString({ done: 'created' })}`);
    } catch (error) {
      const known = refusalOf(error);
      await again(known.status, problemsOf(known, ruleFieldOf));
    }
  });

  // Before /:id: "preview" is no rule.
  router.get(`${RULES}/preview`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = previewFormOf({});
    const rule = str(req.query.rule) ? await findApprovalRule(db, str(req.query.rule)!) : undefined;
    if (rule) Object.assign(values, { process: rule.process, rules: 'proposed', proposed: proposedJsonOf(rule) });
    sendHtml(res, 200, previewPage(ctx, { values, problems: [] }));
  });

  router.post(`${RULES}/preview`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (str(body.intent) === 'preview-edit') {
      // From a rule's form: the edit becomes the proposed rule, and the request is still to be described.
      const rule = ruleFormOf(body);
      const unreadable: Problem[] = [];
      const ruleId = str(body.ruleId);
      const proposed = JSON.stringify([{ ...(ruleId ? { id: ruleId } : {}), ...ruleInputOf(rule, unreadable) }], null, 2);
      const values: PreviewFormValues = { ...previewFormOf({}), process: rule.process, rules: 'proposed', proposed };
      const problems = unreadable.map((p) => ({ field: 'proposed', message: `the condition you edited is ${p.message}: correct it in the rule below` }));
      sendHtml(res, 200, previewPage(ctx, { values, problems }));
      return;
    }
    const values = previewFormOf(body);
    const problems: Problem[] = [];
    const input = approvalPreviewBody.safeParse(previewInputOf(values, problems));
    if (problems.length || !input.success) {
      sendHtml(res, 400, previewPage(ctx, { values, problems: [...problems, ...(input.success ? [] : zodProblems(input.error, previewFieldOf))] }));
      return;
    }
    try {
      const preview = await previewApprovals(db, input.data);
      sendHtml(res, 200, previewPage(ctx, { values, problems: [], preview }));
    } catch (error) {
      const known = refusalOf(error);
      sendHtml(res, known.status, previewPage(ctx, { values, problems: problemsOf(known, previewFieldOf) }));
    }
  });

  router.get(`${RULES}/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const rule = await ruleOf(req, res, ctx);
    if (!rule) return;
    const done = RULE_DONE[str(req.query.done) ?? ''];
    sendHtml(res, 200, rulePage(ctx, { rule, values: ruleFormFrom(rule), version: rule.version, problems: [], notice: done ? { kind: 'ok', text: done } : undefined, groups: await groups() }));
  });

  router.post(`${RULES}/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const rule = await ruleOf(req, res, ctx);
    if (!rule) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { ...ruleFormOf(body), process: rule.process };
    const render = async (status: number, shown: ApprovalRuleDetail, extra: { values: RuleFormValues; version: number; problems?: Problem[]; notice?: Notice }) =>
      sendHtml(res, status, rulePage(ctx, { rule: shown, problems: [], ...extra, groups: await groups() }));
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      await render(400, rule, { values: ruleFormFrom(rule), version: rule.version, notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } });
      return;
    }
    const problems: Problem[] = [];
    const input = approvalRuleUpdate.safeParse(ruleInputOf(values, problems));
    if (problems.length || !input.success) {
      await render(400, rule, { values, version: version.data, problems: [...problems, ...(input.success ? [] : zodProblems(input.error, ruleFieldOf))] });
      return;
    }
    try {
      const { changed } = await updateApprovalRule(db, rule.id, [version.data], input.data, ctx.user.email);
      res.redirect(303, `${RULES_HREF}/${rule.id}${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch') {
        const current = (await findApprovalRule(db, rule.id))!;
        await render(412, current, {
          values: ruleFormFrom(current),
          version: current.version,
          notice: { kind: 'error', text: `This rule changed since you read it (it is now at version ${current.version}), so nothing was saved. The form shows it as it is now: make your change again.` },
        });
        return;
      }
      await render(known.status, rule, { values, version: version.data, problems: problemsOf(known, ruleFieldOf) });
    }
  });

  router.get(`${RULES}/:id/versions`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const rule = await ruleOf(req, res, ctx);
    if (!rule) return;
    sendHtml(res, 200, versionsPage(ctx, rule, (await approvalRuleVersions(db, rule.id))!));
  });
}
