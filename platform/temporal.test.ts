import { ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { describeFailure, isTransientStartupError, retryTransient, temporalTrouble } from './temporal';

/** An error as @grpc/grpc-js makes it: a code, details and metadata. */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

describe('temporalTrouble', () => {
  it('finds an unreachable server and a missed deadline under the client\'s wrapping', () => {
    expect(temporalTrouble(new ServiceError('Failed to start Workflow', { cause: grpcError(UNAVAILABLE, 'No connection established') }))).toBe('unreachable');
    expect(temporalTrouble(new ServiceError('Failed to query Workflow', { cause: grpcError(DEADLINE_EXCEEDED, 'Deadline exceeded') }))).toBe('deadline');
    expect(temporalTrouble(new ServiceError('Failed to connect to Temporal server', { cause: new Error('x') }))).toBe('unreachable');
  });

  it('leaves other failures alone', () => {
    expect(temporalTrouble(new ServiceError('Failed to start Workflow', { cause: grpcError(INVALID_ARGUMENT, 'bad search attribute') }))).toBeUndefined();
    expect(temporalTrouble(new Error('refused'))).toBeUndefined();
  });
});

describe('startup against a Temporal server that is not ready', () => {
  it('counts a namespace not yet visible and an unreachable server as transient, and a bad request as not', () => {
    expect(isTransientStartupError(new NamespaceNotFoundError('assetflow'))).toBe(true);
    expect(isTransientStartupError(new ServiceError('Failed to start Workflow', { cause: grpcError(NOT_FOUND, 'Namespace assetflow is not found.') }))).toBe(true);
    expect(isTransientStartupError(new ServiceError('Failed to start Workflow', { cause: grpcError(UNAVAILABLE, 'connect ECONNREFUSED') }))).toBe(true);
    expect(isTransientStartupError(new ServiceError('Failed to start Workflow', { cause: grpcError(NOT_FOUND, 'Workflow type not found') }))).toBe(false);
    expect(isTransientStartupError(new ServiceError('Failed to start Workflow', { cause: grpcError(INVALID_ARGUMENT, 'bad search attribute') }))).toBe(false);
  });

  it('describes a failure with its whole cause chain', () => {
    const error = new ServiceError('Failed to start Workflow', { cause: grpcError(NOT_FOUND, 'Namespace assetflow is not found.') });
    expect(describeFailure(error)).toBe('Failed to start Workflow <- 5 Namespace assetflow is not found.');
  });

  it('tries a transient failure again, saying why each time, and gives up after the bound', async () => {
    const said: string[] = [];
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw new ServiceError('Failed to start Workflow', { cause: grpcError(NOT_FOUND, 'Namespace assetflow is not found.') });
      return 'started';
    };
    await expect(retryTransient('starting', flaky, { firstDelayMs: 1, onRetry: (failure) => said.push(failure) })).resolves.toBe('started');
    expect(calls).toBe(3);
    expect(said).toEqual([
      'starting failed: Failed to start Workflow <- 5 Namespace assetflow is not found.',
      'starting failed: Failed to start Workflow <- 5 Namespace assetflow is not found.',
    ]);

    let tries = 0;
    const down = async () => {
      tries++;
      throw new ServiceError('Failed to start Workflow', { cause: grpcError(UNAVAILABLE, 'No connection established') });
    };
    await expect(retryTransient('starting', down, { attempts: 4, firstDelayMs: 1, onRetry: () => undefined })).rejects.toThrow('Failed to start Workflow');
    expect(tries).toBe(4);
  });

  it('does not try again what will fail the same way', async () => {
    let tries = 0;
    const bad = async () => {
      tries++;
      throw new ServiceError('Failed to start Workflow', { cause: grpcError(INVALID_ARGUMENT, 'bad search attribute') });
    };
    await expect(retryTransient('starting', bad, { firstDelayMs: 1, onRetry: () => undefined })).rejects.toThrow('Failed to start Workflow');
    expect(tries).toBe(1);
  });
});
