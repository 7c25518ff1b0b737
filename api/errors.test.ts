import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { toHttpError } from './errors';
import { ChangeFailure } from '../workflows/change-request/contract';

const updateFailed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

describe('toHttpError for a failed workflow update', () => {
  it('does not call an activity that ran out of retries on a lost connection a database outage where nothing was changed', () => {
    const lostConnection = ApplicationFailure.create({ message: 'Connection terminated unexpectedly', type: 'Error' });
    const error = updateFailed(new ActivityFailure('activity failed', 'reclaimLicences', '3', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', lostConnection));
    const answer = toHttpError(error);
    expect(answer).toMatchObject({ status: 500, code: 'process_step_failed' });
    expect(answer!.message).not.toMatch(/nothing was changed/);
    expect(answer!.message).toMatch(/may have taken effect/);
  });

  it('answers a segregation-of-duties refusal with 403 and another refusal with 409', () => {
    const refused = (rule: string) =>
      updateFailed(ApplicationFailure.create({ type: ChangeFailure.refused, message: rule, nonRetryable: true, details: [{ rule, message: `refused: ${rule}` }] }));
    expect(toHttpError(refused('segregation_of_duties'))).toMatchObject({ status: 403, code: 'segregation_of_duties' });
    expect(toHttpError(refused('state'))).toMatchObject({ status: 409, code: 'state', message: 'refused: state' });
  });
});
