/**
 * Reading an approver's reply to a task email (issue 18), pure so the inbound mail endpoint and its
 * tests decide alike: auto-replies are recognised by their headers (RFC 3834 and the common vendor
 * ones) before anything else; the quoted history and the signature are cut off; the reply's first
 * words approve or reject, in the languages of the people who approve, and the rest of its first
 * paragraph is the comment. Anything else is unclear: the reply decides nothing. Used by nothing yet.
 */

export type ReplyDecision = 'approved' | 'rejected';

/**
 * Words that decide, lower case, compared after accents are folded (so "goedgekeurd", "approuvé",
 * "rejeitado" and "rejeté" all read): English, Dutch, German, French, Italian, Portuguese, Spanish,
 * Swedish and Polish. A phrase of several words is matched whole.
 */
export const DECISION_WORDS: Record<ReplyDecision, readonly string[]> = {
  approved: [
    'approve', 'approved', 'approving', 'yes', 'ok', 'okay', 'lgtm', 'agreed',
    'goedgekeurd', 'goedkeuren', 'akkoord', 'ja',
    'genehmigt', 'genehmigen', 'einverstanden', 'freigegeben',
    'approuve', 'approuvee', "d'accord", 'oui', 'accepte',
    'approvato', 'approvo', 'si', 'va bene',
    'aprovado', 'aprovo', 'sim', 'de acordo',
    'aprobado', 'apruebo', 'de acuerdo',
    'godkand', 'godkant', 'godkanner',
    'zatwierdzam', 'zatwierdzone', 'tak', 'akceptuje',
  ],
  rejected: [
    'reject', 'rejected', 'rejecting', 'no', 'decline', 'declined', 'deny', 'denied',
    'afgewezen', 'afwijzen', 'nee', 'niet akkoord',
    'abgelehnt', 'ablehnen', 'nein',
    'rejete', 'rejetee', 'refuse', 'refusee', 'non',
    'rifiutato', 'respinto', 'rifiuto',
    'rejeitado', 'recusado', 'recuso', 'nao',
    'rechazado', 'rechazo',
    'avslag', 'avslas', 'avvisad', 'nej',
    'odrzucam', 'odrzucone', 'nie',
  ],
};

/** Most characters of the comment kept: the first paragraph of a reply, not a letter. */
export const MAX_REPLY_COMMENT = 1_000;

/** Accents folded and lower case: "Approuvé" and "approuve" read alike. */
const folded = (text: string) => text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();

type Headers = Record<string, string | readonly string[] | undefined>;

const headerOf = (headers: Headers, name: string): string => {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = entry?.[1];
  return (Array.isArray(value) ? value.join(' ') : (value as string | undefined) ?? '').trim().toLowerCase();
};

/** Subjects mail clients give out-of-office and other automatic answers when the headers say nothing. */
const AUTOMATIC_SUBJECT = /^(out of office|automatic reply|auto(matic)?[- ]?reply|autoreply|afwezig|automatisch antwoord|abwesenheitsnotiz|automatische antwort|absence du bureau|reponse automatique|risposta automatica|fuori sede|resposta automatica|ausente|respuesta automatica|fuera de la oficina|autosvar|franvaro|odpowiedz automatyczna)\b/;

/**
 * An answer no person wrote: RFC 3834's Auto-Submitted (anything but "no"), the headers Exchange and
 * other servers add to out-of-office answers, a bulk or list precedence, or an automatic subject.
 */
export function isAutomaticReply(headers: Headers, subject: string): boolean {
  const autoSubmitted = headerOf(headers, 'auto-submitted');
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return true;
  if (['x-autoreply', 'x-autorespond', 'x-auto-response-suppress-original'].some((name) => headerOf(headers, name) !== '')) return true;
  if (headerOf(headers, 'x-ms-exchange-inbox-rules-loop') !== '' || headerOf(headers, 'x-ms-exchange-generated-message-source') !== '') return true;
  if (['auto_reply', 'bulk', 'junk', 'list'].includes(headerOf(headers, 'precedence'))) return true;
  return AUTOMATIC_SUBJECT.test(folded(subject.trim()));
}

/** Where the quoted original starts, as the common clients and languages write its attribution line. */
const ATTRIBUTION = [
  /^on .+ wrote:?$/, /^op .+ schreef .+:?$/, /^am .+ schrieb .+:?$/, /^le .+ a ecrit\s?:?$/, /^il .+ ha scritto:?$/,
  /^em .+ escreveu:?$/, /^el .+ escribio:?$/, /^den .+ skrev .+:?$/, /^.+ napisal\(a\):?$/, /^dnia .+ napisal.*:?$/,
  /^-+ ?(original message|oorspronkelijk bericht|ursprungliche nachricht|message d'origine|messaggio originale|mensagem original|mensaje original|ursprungligt meddelande|oryginalna wiadomosc) ?-+$/,
  /^(from|van|von|de|da|od|fran):\s.+/,
  /^_{10,}$/,
];

/** Where a signature starts: the standard "-- " line, or a phone client's sign-off. */
const SIGNATURE = [/^-- ?$/, /^sent from my /, /^verzonden vanaf /, /^von meinem .+ gesendet/, /^envoye de mon /, /^inviato da /, /^enviado do meu /, /^enviado desde mi /, /^skickat fran min /, /^wyslane z /];

/**
 * What the person wrote above the quoted original: lines until the first quote (`>`), attribution
 * line or signature; trailing blank lines dropped. Unfolded: the comment keeps its own spelling.
 */
export function writtenPart(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    const plain = folded(line.trim());
    if (line.trimStart().startsWith('>')) break;
    if (ATTRIBUTION.some((pattern) => pattern.test(plain)) || SIGNATURE.some((pattern) => pattern.test(plain))) break;
    kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1].trim() === '') kept.pop();
  return kept.join('\n');
}

const WORD_EDGE = /^[\s,.;:!?\-–—)(]*/;

export type ReadReply =
  | { decision: ReplyDecision; comment: string }
  | { unclear: string };

/**
 * The decision and comment of a reply's text: its written part's first paragraph must start with a
 * deciding word or phrase (the longest that fits, so "de acuerdo" is read whole and "no" is not the
 * start of "note"); the rest of that paragraph, trimmed of the punctuation after the word, is the
 * comment. Nothing written, or a first word that decides nothing: unclear, with the reason to tell
 * the sender.
 */
export function readReply(text: string): ReadReply {
  const written = writtenPart(text).trim();
  if (written === '') return { unclear: 'the reply has no text above the quoted email' };
  // Composed (NFC), so folding the accents away keeps every character where it was.
  const firstParagraph = written.normalize('NFC').split(/\n\s*\n/)[0].replace(/\s+/g, ' ').trim();
  const plain = folded(firstParagraph);
  let best: { decision: ReplyDecision; length: number } | undefined;
  for (const decision of ['approved', 'rejected'] as const) {
    for (const word of DECISION_WORDS[decision]) {
      const fits = plain.startsWith(word) && (plain.length === word.length || !/[\p{L}\p{N}']/u.test(plain[word.length]));
      if (fits && (!best || word.length > best.length)) best = { decision, length: word.length };
    }
  }
  if (!best) {
    return { unclear: `the reply's first word ("${firstParagraph.split(' ')[0].slice(0, 40)}") neither approves nor rejects: start the reply with "approve" or "reject"` };
  }
  const comment = firstParagraph.slice(best.length).replace(WORD_EDGE, '').trim().slice(0, MAX_REPLY_COMMENT);
  return { decision: best.decision, comment };
}
