import { condition } from '@temporalio/workflow';

/**
 * Runs a workflow's handlers one at a time, in arrival order. A ticket queue, because the SDK
 * wakes every waiting condition at once: a plain busy flag would let two through together.
 */
export function oneAtATime() {
  let nextTicket = 0;
  let nowServing = 0;
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      const ticket = nextTicket++;
      await condition(() => nowServing === ticket);
      try {
        return await work();
      } finally {
        nowServing++;
      }
    },
    /** True while a handler runs or waits its turn. */
    busy: () => nextTicket !== nowServing,
  };
}
