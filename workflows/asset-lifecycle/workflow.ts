import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AssetLifecycleActivities } from '../../activities/asset-lifecycle';
import type { UnseenRecordActivities } from '../../activities/unseen-records';
import {
  checkTransitionRequest,
  evaluateTransition,
  isFinal,
  transitionEffects,
  type TransitionRefusal,
} from '../../domain/asset-lifecycle';
import { endOfTermReminders, nextReminder } from '../../domain/end-of-term-reminders';
import { isWatchedState, settlesCandidacy } from '../../domain/unseen-records';
import { DATABASE_STEP } from '../activity-options';
import { StepInterrupted, StepRefused, attentionGuard } from '../attention/guard';
import { oneAtATime } from '../one-at-a-time';
import { processStateKey } from '../search-attributes';
import {
  LifecycleFailure,
  endOfTermDatesChangedSignal,
  lifecycleStatusQuery,
  missingCandidateSignal,
  seenAgainSignal,
  transitionUpdate,
  type AssetLifecycleInput,
  type AssetLifecycleResult,
  type MissingCandidate,
  type TransitionOutcome,
} from './contract';
import type { MissingCandidacyEnd } from '../unseen-watch/contract';

const activities = proxyActivities<AssetLifecycleActivities>(DATABASE_STEP);
const unseenActivities = proxyActivities<UnseenRecordActivities>(DATABASE_STEP);

function refuse(refusal: TransitionRefusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: LifecycleFailure.transitionRefused,
    message: refusal.message,
    details: [refusal],
    nonRetryable: true,
  });
}

/**
 * One run per asset for as long as the asset exists: transitions arrive as updates and run one
 * at a time; warranty and lease reminders are durable timers between them.
 */
export async function assetLifecycleWorkflow(input: AssetLifecycleInput): Promise<AssetLifecycleResult> {
  const { workflowId } = workflowInfo();
  const { assetId } = input;
  let asset = { ...input.asset };
  const remindersSent = [...(input.remindersSent ?? [])];
  // A run begun before the dates could change keeps them: its recorded history waited on the old ones.
  const followsDateChanges = patched('end-of-term-dates-follow-edits');
  let endOfTermDatesVersion = input.endOfTermDatesVersion ?? 0;
  // Told by the unseen watch; only a person's move or a feed seeing it again ends it, never this workflow alone.
  let missingCandidate: MissingCandidate | null = input.missingCandidate ?? null;
  // One transition at a time per asset.
  const transitions = oneAtATime();
  const exclusively = transitions.run;

  const reminders = () => endOfTermReminders(asset, input.reminders);
  const stillPlanned = (reminder: { key: string }) => reminders().some((r) => r.key === reminder.key);
  // Transitions are updates (their caller is waiting, so they fail rather than stall); the
  // reminders are the workflow's own steps.
  const guard = attentionGuard({ subjectType: 'asset', subjectId: assetId, interrupted: () => isFinal(asset.state) });

  setHandler(lifecycleStatusQuery, () => ({
    assetId,
    assetTag: input.assetTag,
    asset,
    transitionInProgress: transitions.busy(),
    remindersSent,
    nextReminder: isFinal(asset.state) ? null : nextReminder(reminders(), remindersSent, Date.now()),
    missingCandidate,
  }));

  setHandler(endOfTermDatesChangedSignal, (change) => {
    if (!followsDateChanges || change.recordVersion <= endOfTermDatesVersion) return;
    endOfTermDatesVersion = change.recordVersion;
    asset = { ...asset, warrantyEnd: change.warrantyEnd, leaseEnd: change.leaseEnd };
  });

  /** Ends the candidacy told (audited once); callers hold the transition queue. */
  async function endMissingCandidacy(endedBy: MissingCandidacyEnd): Promise<void> {
    const ended = missingCandidate;
    if (!ended) return;
    await unseenActivities.endMissingCandidacy({ idempotencyKey: `${workflowId}:missing-candidate:${ended.since}:ended`, workflowId, assetId, since: ended.since, endedBy });
    if (missingCandidate === ended) missingCandidate = null;
  }

  /** A step of a candidacy, in the transition queue (so its audit rows follow the moves in order); a stalled one waits outside it. */
  async function candidacyStep(step: string, work: () => Promise<void>): Promise<void> {
    try {
      await guard.run(step, () => exclusively(work));
    } catch (error) {
      if (error instanceof StepInterrupted) return;
      if (!(error instanceof StepRefused)) throw error;
      await guard.reportRefusal(error, `${step}: not recorded`);
    }
  }

  setHandler(missingCandidateSignal, async (candidacy) => {
    // The watch may tell a candidacy twice (a crash between its signal and its mark): taken once.
    // Histories from before candidacies existed (a signal buffered there) replay as they ran.
    if (missingCandidate || !isWatchedState(asset.state) || !patched('missing-candidates')) return;
    missingCandidate = candidacy;
    await candidacyStep('missing candidate notice', async () => {
      // A move or a sighting ended it while the notice waited for its turn.
      if (missingCandidate !== candidacy) return;
      await unseenActivities.noticeMissingCandidate({ idempotencyKey: `${workflowId}:missing-candidate:${candidacy.since}`, workflowId, assetId, candidacy });
    });
  });

  setHandler(seenAgainSignal, async (seen) => {
    if (!missingCandidate) return;
    await candidacyStep('missing candidacy ended', () => endMissingCandidacy({ seenAgain: seen }));
  });

  setHandler(
    transitionUpdate,
    (command): Promise<TransitionOutcome> =>
      exclusively(async () => {
        const facts = await activities.loadTransitionFacts(assetId);
        const refusal = evaluateTransition(asset, command, facts);
        if (refusal) throw refuse(refusal);

        const effects = transitionEffects(asset, command);
        const lastAssignedToId = asset.assignedToId;
        const from = { state: asset.state, substate: asset.substate };
        const to = { state: command.toState, substate: command.toSubstate ?? null };
        const keyPrefix = `${workflowId}:${command.requestId}`;
        const effectInput = { workflowId, assetId, actor: command.requestedBy };

        const recorded = await activities.recordTransition({
          ...effectInput,
          idempotencyKey: `${keyPrefix}:transition`,
          expectedVersion: asset.version,
          from,
          to,
          assignedToId: effects.assignedToId,
          note: command.note,
          dataWipeAttestation: command.dataWipeAttestation,
        });
        asset = { ...asset, ...to, assignedToId: effects.assignedToId, version: recorded.version };
        upsertSearchAttributes([{ key: processStateKey, value: asset.state }]);
        // Confirmed missing, retired, or found and put in stock: the candidacy is settled.
        if (missingCandidate && settlesCandidacy(to.state)) await endMissingCandidacy({ movedTo: asset.state, by: command.requestedBy });

        const outcome: TransitionOutcome = { assetId, from, to, assignedToId: effects.assignedToId };
        if (effects.reclaimLicences) {
          outcome.reclaimedConsumptions = await activities.reclaimLicences({ ...effectInput, idempotencyKey: `${keyPrefix}:reclaim-licences` });
        }
        if (effects.computeBookValue) {
          outcome.bookValueMinor = await activities.recordRetirementBookValue({ ...effectInput, idempotencyKey: `${keyPrefix}:book-value` });
        }
        if (effects.securityNotice) {
          await activities.sendSecurityNotice({ ...effectInput, idempotencyKey: `${keyPrefix}:security-notice`, lastAssignedToId });
          outcome.securityNoticeSent = true;
        }
        return outcome;
      }),
    {
      // Refuses at once what the asset's state alone rules out: nothing is recorded in history.
      validator: (command) => {
        const refusal = checkTransitionRequest(asset, command);
        if (refusal) throw refuse(refusal);
      },
    },
  );

  while (!isFinal(asset.state)) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof assetLifecycleWorkflow>({ ...input, asset, remindersSent, endOfTermDatesVersion, missingCandidate: missingCandidate ?? undefined });
    }
    const due = nextReminder(reminders(), remindersSent, Date.now());
    const waitMs = due ? Math.max(0, Date.parse(due.remindAt) - Date.now()) : undefined;
    // New dates end the wait: the loop plans again from them.
    const datesWaitedOn = endOfTermDatesVersion;
    const wake = () => isFinal(asset.state) || workflowInfo().continueAsNewSuggested || endOfTermDatesVersion !== datesWaitedOn;
    const woken = waitMs === undefined ? await condition(wake).then(() => true) : await condition(wake, Math.max(waitMs, 1));
    if (!woken && due) {
      try {
        // Outside the queue: a reminder that waits for attention does not hold up transitions.
        await guard.run(`${due.kind} reminder`, () => exclusively(async () => {
          // The dates may have moved while the reminder waited for its turn.
          if (isFinal(asset.state) || !stillPlanned(due)) return;
          await activities.sendEndOfTermReminder({
            idempotencyKey: `${workflowId}:reminder:${due.key}`,
            workflowId,
            assetId,
            kind: due.kind,
            endDate: due.endDate,
          });
          remindersSent.push(due.key);
        }));
      } catch (error) {
        if (error instanceof StepInterrupted) continue;
        if (!(error instanceof StepRefused)) throw error;
        await guard.reportRefusal(error, 'reminder not sent');
        remindersSent.push(due.key);
      }
    }
  }

  await condition(allHandlersFinished);
  return { assetId, finalState: asset.state, finalSubstate: asset.substate };
}
