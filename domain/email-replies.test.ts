import { DECISION_WORDS, isAutomaticReply, readReply, writtenPart } from './email-replies';

describe('readReply', () => {
  it('reads the first word as the decision and the rest of the first paragraph as the comment', () => {
    expect(readReply('Approved, go ahead after 18:00.\n\nThanks,\nMarco')).toEqual({ decision: 'approved', comment: 'go ahead after 18:00.' });
    expect(readReply('reject - the window clashes with month end\nsecond line of the same paragraph')).toEqual({
      decision: 'rejected', comment: 'the window clashes with month end second line of the same paragraph',
    });
    expect(readReply('YES')).toEqual({ decision: 'approved', comment: '' });
  });

  it('understands the approvers\' languages, accents or not', () => {
    expect(readReply('Goedgekeurd. Prima zo.')).toEqual({ decision: 'approved', comment: 'Prima zo.' });
    expect(readReply('Abgelehnt: bitte erst testen')).toEqual({ decision: 'rejected', comment: 'bitte erst testen' });
    expect(readReply('Approuvé !')).toEqual({ decision: 'approved', comment: '' });
    expect(readReply('Rejeté, trop cher')).toEqual({ decision: 'rejected', comment: 'trop cher' });
    expect(readReply('Não, falta o orçamento')).toEqual({ decision: 'rejected', comment: 'falta o orçamento' });
    expect(readReply('De acuerdo, adelante')).toEqual({ decision: 'approved', comment: 'adelante' });
    expect(readReply('Godkänd')).toEqual({ decision: 'approved', comment: '' });
    expect(readReply('Odrzucam, za drogo')).toEqual({ decision: 'rejected', comment: 'za drogo' });
  });

  it('reads a word whole: "no" does not start "note", nor "ok" "oktober"', () => {
    expect(readReply('Note: I will look tomorrow')).toMatchObject({ unclear: expect.stringContaining('"Note:"') });
    expect(readReply('Oktober is better')).toMatchObject({ unclear: expect.any(String) });
    expect(readReply('Non merci')).toEqual({ decision: 'rejected', comment: 'merci' });
  });

  it('decides nothing on a reply that only quotes the email, or opens with something else', () => {
    expect(readReply('> Please approve CHG0001091\n> Approve: https://…')).toEqual({ unclear: 'the reply has no text above the quoted email' });
    expect(readReply('Can we talk first?\n\n> Please approve CHG0001091')).toMatchObject({ unclear: expect.stringContaining('neither approves nor rejects') });
  });

  it('ignores the quoted original, however the client marks it: a word in it never decides', () => {
    const quoted = [
      'Rejected, not this week',
      '',
      'On Mon, 30 Nov 2026 at 09:00, assetflow <noreply@assetflow.example> wrote:',
      '> Approve or reject CHG0001091 by replying: approve',
    ].join('\n');
    expect(readReply(quoted)).toEqual({ decision: 'rejected', comment: 'not this week' });
    const outlook = 'Approve\r\n\r\n-----Original Message-----\r\nFrom: assetflow\r\nReject here';
    expect(readReply(outlook)).toEqual({ decision: 'approved', comment: '' });
    const dutch = 'akkoord\nOp ma 30 nov. 2026 om 09:00 schreef assetflow <noreply@assetflow.example>:\nReject';
    expect(readReply(dutch)).toEqual({ decision: 'approved', comment: '' });
  });
});

describe('writtenPart', () => {
  it('stops at the signature and the phone sign-off', () => {
    expect(writtenPart('Approve\n\nMarco\n-- \nMarco Rossi\nIT Operations')).toBe('Approve\n\nMarco');
    expect(writtenPart('Approve\n\nSent from my iPhone')).toBe('Approve');
    expect(writtenPart('Genehmigt\n\nVon meinem iPhone gesendet')).toBe('Genehmigt');
  });
});

describe('isAutomaticReply', () => {
  it('knows RFC 3834 and the vendor headers, and out-of-office subjects when the headers say nothing', () => {
    expect(isAutomaticReply({ 'Auto-Submitted': 'auto-replied' }, 'Re: Approve CHG0001091')).toBe(true);
    expect(isAutomaticReply({ 'auto-submitted': 'no' }, 'Re: Approve CHG0001091')).toBe(false);
    expect(isAutomaticReply({ 'X-Autoreply': 'yes' }, 'Re: task')).toBe(true);
    expect(isAutomaticReply({ Precedence: 'bulk' }, 'Re: task')).toBe(true);
    expect(isAutomaticReply({}, 'Automatic reply: Approve CHG0001091')).toBe(true);
    expect(isAutomaticReply({}, 'Réponse automatique : absent')).toBe(true);
    expect(isAutomaticReply({}, 'Abwesenheitsnotiz: Re: task')).toBe(true);
    expect(isAutomaticReply({}, 'Re: Approve CHG0001091')).toBe(false);
  });
});

it('keeps every deciding word folded and lower case, and no word both approving and rejecting', () => {
  for (const word of [...DECISION_WORDS.approved, ...DECISION_WORDS.rejected]) {
    expect(word).toBe(word.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase());
  }
  expect(DECISION_WORDS.approved.filter((word) => DECISION_WORDS.rejected.includes(word))).toEqual([]);
});
