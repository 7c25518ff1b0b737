import { APPROVAL_LINK_PLACEHOLDER, containsApprovalToken, isUndeliverable, UndeliverableEmail, withApprovalLink } from './email-delivery';

/** A failed hand-off as nodemailer reports it: the SMTP reply's code and the command it answered. */
const smtpError = (responseCode: number, command: string, code = 'EENVELOPE') =>
  Object.assign(new Error(`${responseCode} refused`), { code, responseCode, command });

describe('isUndeliverable', () => {
  it('gives up on a recipient or a message the mail server refuses for good', () => {
    expect(isUndeliverable(smtpError(550, 'RCPT TO'))).toBe(true);
    expect(isUndeliverable(smtpError(554, 'DATA', 'EMESSAGE'))).toBe(true);
  });

  it('gives up on a message that cannot be built', () => {
    expect(isUndeliverable(new UndeliverableEmail('approval gone'))).toBe(true);
  });

  it('tries again what may go later: no connection, a temporary refusal', () => {
    expect(isUndeliverable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET' }))).toBe(false);
    expect(isUndeliverable(smtpError(450, 'RCPT TO'))).toBe(false);
    expect(isUndeliverable(smtpError(421, 'DATA', 'EMESSAGE'))).toBe(false);
    expect(isUndeliverable(new Error('Greeting never received'))).toBe(false);
    expect(isUndeliverable('down')).toBe(false);
  });

  it('tries again when the login or the sender is refused: configuration, the same for every message', () => {
    expect(isUndeliverable(smtpError(535, 'AUTH PLAIN', 'EAUTH'))).toBe(false);
    expect(isUndeliverable(smtpError(553, 'MAIL FROM'))).toBe(false);
  });
});


describe('approval links in stored messages', () => {
  const id = '0b6c1c8e-4f0a-4d55-9d5e-5b8f6f2b1a11';

  it('puts the signed link where the placeholder stands, every time it stands there', () => {
    const body = `Approve: ${APPROVAL_LINK_PLACEHOLDER}\nor later: ${APPROVAL_LINK_PLACEHOLDER}`;
    const link = `http://x/approvals/${id}?token=v1.a.b`;
    expect(withApprovalLink(body, link)).toBe(`Approve: ${link}\nor later: ${link}`);
  });

  it('recognises a live token in a link, wherever the token stands in its query', () => {
    expect(containsApprovalToken(`see http://host:3000/approvals/${id}?token=v1.abc.def`)).toBe(true);
    expect(containsApprovalToken(`see /approvals/${id.toUpperCase()}?lang=en&token=v1.abc.def`)).toBe(true);
  });

  it('accepts a body with the placeholder or a link without a token', () => {
    expect(containsApprovalToken(`Approve: ${APPROVAL_LINK_PLACEHOLDER}`)).toBe(false);
    expect(containsApprovalToken(`POST http://host/changes/CHG1/approvals/${id}/decision`)).toBe(false);
  });
});
