import { z } from 'zod';
import { zodProblems } from './forms';

describe('what a form says is wrong', () => {
  it('puts the schema\'s findings in the words of a person filling the form', () => {
    const schema = z.object({
      title: z.string().min(3),
      name: z.string().min(1),
      lines: z.array(z.string()).min(1),
      notes: z.string().max(5),
      kind: z.enum(['a', 'b']),
      quantity: z.number().int(),
      missing: z.string(),
      personId: z.uuid(),
    });
    const result = schema.safeParse({ title: 'ab', name: '', lines: [], notes: 'too long', kind: 'c', quantity: 1.5, personId: 'x' });
    expect(zodProblems(result.error!)).toEqual([
      { path: 'title', message: 'at least 3 characters' },
      { path: 'name', message: 'required' },
      { path: 'lines', message: 'choose at least one' },
      { path: 'notes', message: 'at most 5 characters' },
      { path: 'kind', message: 'choose one of the options' },
      { path: 'quantity', message: 'a whole number' },
      { path: 'missing', message: 'required' },
      { path: 'personId', message: 'choose one of the options' },
    ]);
  });

  it('keeps a message the rule wrote itself', () => {
    const result = z.object({ reason: z.string().min(1, 'say why the approval moves') }).safeParse({ reason: '' });
    expect(zodProblems(result.error!)).toEqual([{ path: 'reason', message: 'say why the approval moves' }]);
  });
});
