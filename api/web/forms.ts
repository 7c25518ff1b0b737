/**
 * The pieces every form of the web UI is made of: values read from a posted form, the problems
 * of each field (from zod, or from a refusal's details, which name paths alike), and labelled
 * inputs that show their problem next to themselves and announce it (aria-describedby). A form
 * shows a summary of its problems first, each linking to its field.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HttpError } from '../errors';
import { html, type SafeHtml } from './html';

/** The first string of a form field or query parameter. */
export const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);
export const text = (body: Record<string, unknown>, name: string) => str(body[name]) ?? '';
/** A whole number as typed; anything else is passed on as text, for the schema to name. */
export const wholeNumber = (value: string) => (/^\s*-?\d+\s*$/.test(value) ? Number(value) : value);

/** Field name -> what is wrong with it; `form` for what belongs to no field. */
export type FieldErrors = Record<string, string>;

export interface FormState<V> {
  values: V;
  errors: FieldErrors;
}

/** The problems of a refusal by field: zod issues and the model's problems name paths alike. */
export function fieldErrorsOf(problems: { path: string; message: string }[], fieldOf: (path: string) => string = (p) => p): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = fieldOf(problem.path.split('.')[0] || 'form');
    errors[field] = errors[field] ? `${errors[field]}; ${problem.message}` : problem.message;
  }
  return errors;
}

/**
 * What a schema found wrong, in the words a person filling a form reads ("required", "at least 3
 * characters") rather than the schema's ("Too small: expected string to have >=3 characters"). The
 * rules' own messages (custom issues) are already plain and pass through.
 */
function plainMessage(issue: z.core.$ZodIssue): string {
  // A schema's own message ("say why the approval moves") is already written for people.
  if (!/^(Too small|Too big|Invalid input|Invalid option|Invalid [A-Z])/.test(issue.message)) return issue.message;
  const limit = (issue as { minimum?: unknown; maximum?: unknown }).minimum ?? (issue as { maximum?: unknown }).maximum;
  const origin = (issue as { origin?: string }).origin;
  switch (issue.code) {
    case 'too_small':
      if (origin === 'string') return Number(limit) <= 1 ? 'required' : `at least ${limit} characters`;
      if (origin === 'array' || origin === 'set') return Number(limit) <= 1 ? 'choose at least one' : `choose at least ${limit}`;
      return `at least ${limit}`;
    case 'too_big':
      if (origin === 'string') return `at most ${limit} characters`;
      if (origin === 'array' || origin === 'set') return `at most ${limit}`;
      return `at most ${limit}`;
    case 'invalid_type':
      if ((issue as { input?: unknown }).input === undefined && !/received (?!undefined)/.test(issue.message)) return 'required';
      return issue.expected === 'int' ? 'a whole number' : issue.expected === 'number' ? 'a number' : issue.message;
    case 'invalid_value':
      return 'choose one of the options';
    case 'invalid_format':
      return issue.format === 'uuid' ? 'choose one of the options' : issue.format === 'email' ? 'an email address' : issue.message;
    default:
      return issue.message;
  }
}

export const zodProblems = (error: z.ZodError) => error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: plainMessage(i) }));

export const problemsOfRefusal = (known: HttpError) =>
  Array.isArray(known.details) ? (known.details as { path: string; message: string }[]) : [{ path: known.code === 'name_taken' ? 'name' : 'form', message: known.message }];

/**
 * A labelled input with its hint and error: the error is announced with the field
 * (aria-describedby) and marks it invalid.
 */
export function field(input: {
  id: string;
  name: string;
  label: string;
  value: string;
  errors: FieldErrors;
  hint?: string;
  type?: string;
  required?: boolean;
  attrs?: SafeHtml;
}): SafeHtml {
  const error = input.errors[input.name];
  const described = [input.hint && `${input.id}-hint`, error && `${input.id}-error`].filter(Boolean).join(' ');
  return html`<label for="${input.id}">${input.label}</label>
${error && html`<p id="${input.id}-error" class="notice error">${error}</p>`}
<input id="${input.id}" name="${input.name}" type="${input.type ?? 'text'}" value="${input.value}"${input.required && html` required`}${error && html` aria-invalid="true"`}${described && html` aria-describedby="${described}"`}${input.attrs ?? ''}>
${input.hint && html`<p id="${input.id}-hint" class="meta">${input.hint}</p>`}`;
}

export function select(input: { id: string; name: string; label: string; value: string; errors: FieldErrors; options: [string, string][]; groups?: [string, [string, string][]][] }): SafeHtml {
  const error = input.errors[input.name];
  const option = ([value, text]: [string, string]) => html`<option value="${value}"${value === input.value && html` selected`}>${text}</option>`;
  const options = input.groups
    ? input.groups.map(([groupLabel, options]) => html`<optgroup label="${groupLabel}">${options.map(option)}</optgroup>`)
    : input.options.map(option);
  return html`<label for="${input.id}">${input.label}</label>
${error && html`<p id="${input.id}-error" class="notice error">${error}</p>`}
<select id="${input.id}" name="${input.name}"${error && html` aria-invalid="true" aria-describedby="${input.id}-error"`}>${options}</select>`;
}

/**
 * The list of a form's problems, first in the form, each linking to its field; focusable so that
 * a keyboard user lands on it.
 */
export function errorSummary(prefix: string, errors: FieldErrors, labels: Record<string, string>): SafeHtml {
  const entries = Object.entries(errors);
  if (!entries.length) return html``;
  return html`<div class="notice error" role="alert" tabindex="-1" id="${prefix}-errors">
<p><strong>Nothing was saved. ${entries.length === 1 ? 'One thing needs' : `${entries.length} things need`} your attention:</strong></p>
<ul>${entries.map(([name, message]) => (labels[name]
    ? html`<li><a href="#${prefix}-${name}">${labels[name]}</a>: ${message}</li>`
    : html`<li>${message}</li>`))}</ul>
</div>`;
}

/**
 * The hidden key of a form that sends a command: minted when the form is rendered (or kept, when
 * sending it again must be the same command), and passed as commandRequestId's formKey, so a
 * double click or a resend is one command answered with the first outcome.
 */
export const requestKeyField = (key?: string): SafeHtml => html`<input type="hidden" name="requestKey" value="${key ?? randomUUID()}">`;

/** The form's own key as posted, when it is one (a uuid); undefined for a form that lacks it. */
export function requestKeyOf(body: Record<string, unknown>): string | undefined {
  const key = str(body.requestKey);
  return key !== undefined && z.uuid().safeParse(key).success ? key : undefined;
}

/** A field's problem, next to it, for the field's aria-describedby to name. */
export function fieldError(id: string, errors: FieldErrors, name: string): SafeHtml {
  return errors[name] ? html`<p id="${id}-error" class="notice error">${errors[name]}</p>` : html``;
}
