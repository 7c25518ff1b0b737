import { z } from 'zod';
import { APPROVAL_POLICIES, APPROVAL_PROCESSES, APPROVER_KINDS, EXPIRY_ACTIONS, type ApprovalProcess } from '../../domain/approval-routing';
import { CHANGE_TYPES, CRITICALITIES } from '../../domain/change-impact';
import { RISK_LEVELS } from '../../domain/change-risk';
import { emailAddress } from '../../domain/directory';
import { MAX_AMOUNT_MINOR } from '../../domain/money';
import {
  ApprovalRuleRefused,
  approvalRuleVersions,
  createApprovalRule,
  findApprovalRule,
  listApprovalRules,
  previewApprovals,
  updateApprovalRule,
  type PreviewRequest,
} from '../../model/approval-rules';
import type { AppDeps } from '../app';
import { expectedVersions, setETag } from '../concurrency';
import { badRequest, conflict, notFound, versionMismatch } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

/** Who changes approval rules and previews them; everyone signed in may read them (who approves what is no secret). */
export const RULE_WRITERS = ['process_owner', 'admin'] as const;

const approvalProcess = z.enum(APPROVAL_PROCESSES);

const ruleFields = {
  stepOrder: z.number().int().min(1).max(100).describe('steps run in this order; rules of one step in name order'),
  name: z.string().trim().min(1).max(100),
  appliesWhen: z.unknown().describe('the condition, as JSON: keys that must all hold, e.g. {"minRiskLevel": "high"} or {"anyOf": [{"minCostMinor": 1000000}, {"overBudget": true}]}; {} always applies. '
    + 'change: minRiskLevel, minCriticality, minCostMinor, changeType, overBudget, anyOf; procurement: minCostMinor, newVendor, offCatalogue, overBudget, anyOf; reconciliation: none ({})'),
  approverKind: z.enum(APPROVER_KINDS).describe('a reconciliation rule (who decides a data steward case) is a group rule'),
  group: z.string().trim().min(1).max(100).nullable().describe('the name of the group whose members approve, for approverKind group'),
  policy: z.enum(APPROVAL_POLICIES).describe('any: one approval; all: every approver; quorum: `quorum` approvals'),
  quorum: z.number().int().min(1).max(100).nullable(),
  onExpiry: z.enum(EXPIRY_ACTIONS),
  active: z.boolean().describe('false retires the rule: it routes nothing more, and is kept with its versions'),
};

export const approvalRuleCreate = z.strictObject({
  process: approvalProcess,
  stepOrder: ruleFields.stepOrder,
  name: ruleFields.name,
  appliesWhen: ruleFields.appliesWhen.optional(),
  approverKind: ruleFields.approverKind,
  group: ruleFields.group.optional(),
  policy: ruleFields.policy.optional(),
  quorum: ruleFields.quorum.optional(),
  onExpiry: ruleFields.onExpiry.optional(),
  active: ruleFields.active.optional(),
});

export const approvalRuleUpdate = z.strictObject({
  stepOrder: ruleFields.stepOrder.optional(),
  name: ruleFields.name.optional(),
  appliesWhen: ruleFields.appliesWhen.optional(),
  approverKind: ruleFields.approverKind.optional(),
  group: ruleFields.group.optional(),
  policy: ruleFields.policy.optional(),
  quorum: ruleFields.quorum.optional(),
  onExpiry: ruleFields.onExpiry.optional(),
  active: ruleFields.active.optional(),
});

const proposedRule = approvalRuleUpdate.extend({ id: z.uuid().optional().describe('the rule this one replaces; without it the rule is added') });

const affectedCi = z.strictObject({ name: z.string().trim().min(1).max(200), ciClass: z.string().trim().min(1).max(50) });

const hypotheticalSubject = z.strictObject({
  requesterEmail: emailAddress,
  costCentre: z.string().trim().min(1).max(32).optional().describe('cost centre code'),
  costMinor: z.number().int().min(0).max(MAX_AMOUNT_MINOR).default(0),
  changeType: z.enum(CHANGE_TYPES).optional().describe('change only; normal when not given'),
  riskLevel: z.enum(RISK_LEVELS).optional().describe('change only; low when not given'),
  highestCriticality: z.enum(CRITICALITIES).optional().describe('change only; found from affectedCis when not given'),
  affectedCis: z.array(affectedCi).max(50).optional().describe('change only: the CIs it touches, whose services and assets have owners who may approve'),
  overBudget: z.boolean().optional(),
  newVendor: z.boolean().optional().describe('procurement only'),
  offCatalogue: z.boolean().optional().describe('procurement only'),
});

/** The fields of a hypothetical subject only one process asks about. */
const SUBJECT_FIELDS_OF: Record<ApprovalProcess, readonly string[]> = {
  change: ['changeType', 'riskLevel', 'highestCriticality', 'affectedCis'],
  procurement: ['newVendor', 'offCatalogue'],
  reconciliation: [],
  renewal: [],
};

const processOfNumber = (number: string): ApprovalProcess => (number.startsWith('CHG') ? 'change' : 'procurement');

export const approvalPreviewBody = z.strictObject({
  process: approvalProcess.optional().describe('needed with subject; with number it is the number\'s process'),
  number: z.string().trim().toUpperCase().regex(/^(CHG|PR)\d{7}$/, 'a change (CHG0001001) or purchase request (PR0001001) number').optional(),
  subject: hypotheticalSubject.optional(),
  proposed: z.array(proposedRule).max(50).optional().describe('rules as proposed: each replaces the rule with its id, or is added; checked as on save'),
}).superRefine((body, ctx) => {
  if ((body.number === undefined) === (body.subject === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give either the number of an existing request or a subject to imagine, not both or neither' });
    return;
  }
  if (body.number && body.process && body.process !== processOfNumber(body.number)) {
    ctx.addIssue({ code: 'custom', path: ['process'], message: `${body.number} is a ${processOfNumber(body.number)} request` });
  }
  if (body.subject) {
    if (!body.process) {
      ctx.addIssue({ code: 'custom', path: ['process'], message: 'say which process the subject is a request of: change or procurement' });
      return;
    }
    for (const other of APPROVAL_PROCESSES.filter((p) => p !== body.process)) {
      for (const field of SUBJECT_FIELDS_OF[other]) {
        if (field in body.subject && (body.subject as Record<string, unknown>)[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['subject', field], message: `only a ${other} request has ${field}` });
        }
      }
    }
  }
  if (body.process === 'reconciliation') {
    // A case is raised by a feed and asks its group (or, with nobody active there, the asset managers): there is no requester to imagine.
    ctx.addIssue({ code: 'custom', path: ['process'], message: 'a steward case is decided by the group its rule names, or the asset managers when nobody there is active: there is nothing to preview' });
  }
}).transform((body): PreviewRequest => ({
  process: body.number ? processOfNumber(body.number) : body.process!,
  number: body.number,
  subject: body.subject,
  proposed: body.proposed,
}));

/** A rule's refusal as the API answers it; anything else as it is. */
export function approvalRuleHttpError(error: unknown): unknown {
  if (!(error instanceof ApprovalRuleRefused)) return error;
  const refusal = error.refusal;
  switch (refusal.rule) {
    case 'not_found':
      return notFound(refusal.message);
    case 'version_mismatch':
      return versionMismatch(refusal.currentVersion, refusal.message);
    case 'invalid_rule':
      return badRequest(refusal.message, refusal.problems);
    case 'rule_name_taken':
    case 'not_assessed':
      return conflict(refusal.rule, refusal.message);
  }
}

async function answering<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw approvalRuleHttpError(error);
  }
}

const idParams = z.object({ id: z.uuid() });

/**
 * Approval rules as versioned data: everyone signed in reads them and their versions; process
 * owners and admins create and change them (If-Match: the version read; `active: false` retires
 * one) and preview who would approve a request under the rules as they are or as proposed.
 */
export function registerApprovalRuleRoutes(routes: RouteRegistry, deps: Pick<AppDeps, 'db'>): void {
  const { db } = deps;

  routes.add(
    {
      method: 'get', path: '/approval-rules', tag: 'configuration', access: 'authenticated',
      summary: 'List approval rules by process, step and name',
      query: pageQuery.extend({
        process: approvalProcess.optional(),
        active: z.enum(['true', 'false']).optional().transform((value) => (value === undefined ? undefined : value === 'true'))
          .describe('only active (true) or retired (false) ones'),
      }),
      responses: { 200: 'a page of rules', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => listApprovalRules(db, { process: query.process, active: query.active }, query),
  );

  routes.add(
    {
      method: 'get', path: '/approval-rules/:id', tag: 'configuration', access: 'authenticated',
      summary: 'One approval rule, its group by name; ETag is its version',
      params: idParams,
      responses: { 200: 'the rule', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such rule' },
    },
    async ({ params, res }) => {
      const rule = await findApprovalRule(db, params.id);
      if (!rule) throw notFound(`no approval rule ${params.id}`);
      setETag(res, rule.version);
      return rule;
    },
  );

  routes.add(
    {
      method: 'get', path: '/approval-rules/:id/versions', tag: 'configuration', access: 'authenticated',
      summary: 'Every saved version of an approval rule, newest first: version, who saved it, when, and the rule as saved',
      params: idParams,
      responses: { 200: 'the versions', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such rule' },
    },
    async ({ params }) => {
      const versions = await approvalRuleVersions(db, params.id);
      if (!versions) throw notFound(`no approval rule ${params.id}`);
      return { id: params.id, versions };
    },
  );

  routes.add(
    {
      method: 'post', path: '/approval-rules', tag: 'configuration', access: RULE_WRITERS,
      summary: 'Create an approval rule (version 1); its condition is checked against the process\'s condition language',
      body: approvalRuleCreate,
      responses: {
        201: 'the rule (ETag, Location)',
        400: 'bad input: an unknown condition key (details: the keys allowed), a bad value (the values allowed), an unknown group',
        401: 'no or bad API key', 403: 'not a process owner or admin', 409: 'rule_name_taken: the step already has a rule of that name',
      },
    },
    async ({ body, principal, res }) => {
      const rule = await answering(createApprovalRule(db, body, principal.email));
      setETag(res, rule.version);
      res.status(201).location(`/approval-rules/${rule.id}`);
      return rule;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/approval-rules/:id', tag: 'configuration', access: RULE_WRITERS,
      summary: 'Change an approval rule (If-Match: its ETag): the fields given; active false retires it. Each save is a new version',
      params: idParams,
      body: approvalRuleUpdate,
      responses: {
        200: 'the rule as now (a new ETag when something changed)',
        400: 'bad input, as for create', 401: 'no or bad API key', 403: 'not a process owner or admin', 404: 'no such rule',
        409: 'rule_name_taken', 412: 'If-Match is not the current version (details: currentVersion); nothing was written', 428: 'no If-Match',
      },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { rule } = await answering(updateApprovalRule(db, params.id, versions, body, principal.email));
      setETag(res, rule.version);
      return rule;
    },
  );

  routes.add(
    {
      method: 'post', path: '/approval-rules/preview', tag: 'configuration', access: RULE_WRITERS,
      summary: 'Who would approve a request: an existing one by number (its stored assessment) or one described, under the rules as they are or as proposed. Writes nothing',
      body: approvalPreviewBody,
      responses: {
        200: 'the planned steps: rule and version (or "proposed"), policy, required approvals, approvers, notes',
        400: 'bad input, an unknown person, cost centre or CI, or a proposed rule refused as on save', 401: 'no or bad API key',
        403: 'not a process owner or admin', 404: 'no request with that number', 409: 'not_assessed: the request is not assessed yet',
      },
    },
    async ({ body }) => answering(previewApprovals(db, body)),
  );
}
