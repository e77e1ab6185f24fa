// The approved WhatsApp templates a person may write first with, without I/O. WhatsApp lets a
// business start a conversation (or write after the 24 hours that follow the customer's last
// message) only with a template approved beforehand; with Twilio it is a Content SID (HX…) whose
// variables `{{1}}`, `{{2}}`, … are filled when it is sent. The list is configured
// (AGENT_DESK_WHATSAPP_TEMPLATES_JSON): the Content SID, its language, a preview of its text with
// the placeholders, and what each variable is and how long it may be.
import { z } from 'zod';

/** WhatsApp refuses a variable with a new line or a tab, or with more than four spaces in a row. */
const UNSENDABLE = /[\n\r\t]| {5}/;

const variable = z.object({
  label: z.string().trim().min(1, 'each variable needs a label').max(60, 'a variable label is at most 60 characters'),
  maxLength: z.number().int().min(1).max(1024, 'a variable is at most 1,024 characters').default(100),
});

const template = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,64}$/, 'name must be 1-64 lower-case letters, digits or _ (as WhatsApp names templates)'),
    contentSid: z.string().regex(/^HX[0-9a-fA-F]{32}$/, 'contentSid must be a Twilio Content SID: HX and 32 hexadecimal digits'),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'language must be a code such as en or pt_BR'),
    preview: z.string().min(1, 'preview is required').max(1024, 'preview is at most 1,024 characters'),
    variables: z.array(variable).max(20, 'a template has at most 20 variables').default([]),
  })
  .superRefine((t, ctx) => {
    const used = [...t.preview.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1]));
    const expected = t.variables.map((_, i) => i + 1);
    if ([...new Set(used)].sort((a, b) => a - b).join() !== expected.join())
      ctx.addIssue({
        code: 'custom',
        message: `${t.name}: the preview must use {{1}} to {{${t.variables.length}}}, each variable at least once, and no other`,
      });
  });

export type WhatsAppTemplate = z.output<typeof template>;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The configured list, checked whole: a list that does not parse stops the desk at start-up. */
export function parseTemplates(json: string): WhatsAppTemplate[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new TemplateError(`AGENT_DESK_WHATSAPP_TEMPLATES_JSON is not JSON: ${(err as Error).message}`);
  }
  const parsed = z.array(template).max(100, 'at most 100 templates').safeParse(value);
  if (!parsed.success) throw new TemplateError(`AGENT_DESK_WHATSAPP_TEMPLATES_JSON: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const names = parsed.data.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new TemplateError(`AGENT_DESK_WHATSAPP_TEMPLATES_JSON: the template ${twice} is listed twice`);
  return parsed.data;
}

export interface FilledTemplate {
  template: WhatsAppTemplate;
  /** What the customer reads: the preview with each placeholder replaced. */
  text: string;
  /** Twilio's ContentVariables: {"1": "…", "2": "…"}. */
  contentVariables: string;
}

/** The template filled with the writer's values: every variable given, none too long or unsendable, nothing extra. */
export function fillTemplate(list: WhatsAppTemplate[], name: string, values: string[]): FilledTemplate {
  const t = list.find((x) => x.name === name);
  if (!t) throw new TemplateError(`template: ${name.slice(0, 64)} is not one of the approved WhatsApp templates`);
  if (values.length > t.variables.length) throw new TemplateError(`variables: ${t.name} has ${t.variables.length} variable(s), ${values.length} were given`);
  const filled: Record<string, string> = {};
  t.variables.forEach((v, i) => {
    const value = (values[i] ?? '').trim();
    const which = `variable ${i + 1} (${v.label})`;
    if (!value) throw new TemplateError(`variables: ${which} is missing`);
    if (value.length > v.maxLength) throw new TemplateError(`variables: ${which} is longer than ${v.maxLength} characters`);
    if (UNSENDABLE.test(value)) throw new TemplateError(`variables: ${which} may not hold a new line, a tab or more than four spaces in a row`);
    filled[String(i + 1)] = value;
  });
  const text = t.preview.replace(/\{\{(\d+)\}\}/g, (_, n: string) => filled[n] ?? '');
  return { template: t, text, contentVariables: JSON.stringify(filled) };
}

/** What the page lists: everything but the Content SID, which is the desk's business with Twilio. */
export function templateChoices(list: WhatsAppTemplate[]) {
  return list.map((t) => ({ name: t.name, language: t.language, preview: t.preview, variables: t.variables }));
}
