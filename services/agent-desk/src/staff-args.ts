// Reads the staff command's arguments into a roster entry. No I/O: the command itself
// (staff-cli.ts) reads the password and writes to the roster.
import type { StaffMember } from '#libs/staff';
import { isChannelName } from '#libs/contact';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage:
  staff add --id ana --name "Ana Lopez" --role agent|expert|supervisor|ops [--tier 1|2]
            [--skills billing:3,general:2] [--languages en,fr]
            [--capacity voice=1,chat=3,sms=5,email=5,api=5,whatsapp=5,total=8]
            [--phone +14155550100] [--answer-on softphone|phone]
      calls ring in the desk's softphone, or on the person's own phone (E.164) with
      --answer-on phone, which --phone alone implies
      password from env STAFF_PASSWORD, otherwise read from stdin (at least 12 characters);
      an existing id is updated (its password too when one is given)
  staff disable <id>   the person can no longer sign in; their sessions end everywhere
  staff enable <id>    lets a disabled person sign in again
  staff remove <id>    takes the person off the roster; their sessions end everywhere
  staff list`;

export type StaffCommand = { command: 'add'; member: Record<string, unknown> } | { command: 'list' } | { command: 'disable' | 'enable' | 'remove'; id: string };

const ONE_ID = new Set(['disable', 'enable', 'remove']);

const FLAGS = new Set(['id', 'name', 'role', 'tier', 'skills', 'languages', 'capacity', 'phone', 'answer-on']);

export function parseStaffArgs(argv: readonly string[]): StaffCommand {
  const [command, ...rest] = argv;
  if (command === 'list') {
    if (rest.length) throw new UsageError('list takes no arguments');
    return { command: 'list' };
  }
  if (command && ONE_ID.has(command)) {
    const [id, ...extra] = rest;
    if (!id || id.startsWith('--')) throw new UsageError(`${command} needs a staff id`);
    if (extra.length) throw new UsageError(`${command} takes one staff id`);
    return { command: command as 'disable' | 'enable' | 'remove', id: id.trim().toLowerCase() };
  }
  if (command !== 'add') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i]!;
    if (!flag.startsWith('--') || !FLAGS.has(flag.slice(2))) throw new UsageError(`unknown option "${flag}"`);
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag.slice(2))) throw new UsageError(`${flag} given twice`);
    values.set(flag.slice(2), value);
  }
  for (const required of ['id', 'name', 'role']) if (!values.has(required)) throw new UsageError(`--${required} is required`);
  const member: Record<string, unknown> = { id: values.get('id'), name: values.get('name'), role: values.get('role') };
  const role = values.get('role');
  const tier = values.get('tier') ?? (role === 'expert' ? '2' : '1');
  if (tier !== '1' && tier !== '2') throw new UsageError('--tier must be 1 or 2');
  member.tier = Number(tier);
  if (values.has('skills')) member.skills = parseSkills(values.get('skills')!);
  if (values.has('languages'))
    member.languages = values
      .get('languages')!
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean);
  if (values.has('capacity')) member.capacity = parseCapacity(values.get('capacity')!);
  if (values.has('phone') || values.has('answer-on')) Object.assign(member, parseCallAnswering(values.get('phone'), values.get('answer-on')));
  return { command: 'add', member };
}

/** Where the person takes calls: a phone number alone means calls ring on it. */
function parseCallAnswering(phone: string | undefined, answerOn: string | undefined): { phone?: string; answerCallsOn: 'softphone' | 'phone' } {
  if (phone !== undefined && !/^\+[1-9][0-9]{6,14}$/.test(phone)) throw new UsageError(`--phone: "${phone}" must be in E.164 form, such as +14155550100`);
  if (answerOn !== undefined && answerOn !== 'softphone' && answerOn !== 'phone') throw new UsageError('--answer-on must be softphone or phone');
  if (answerOn === 'phone' && phone === undefined) throw new UsageError('--answer-on phone needs --phone');
  const answerCallsOn = (answerOn ?? (phone ? 'phone' : 'softphone')) as 'softphone' | 'phone';
  return phone === undefined ? { answerCallsOn } : { phone, answerCallsOn };
}

function parseSkills(text: string): Record<string, number> {
  const skills: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^:]+):(\d)$/.exec(part);
    if (!m) throw new UsageError(`--skills: "${part}" must be skill:level, level 1-5`);
    skills[m[1]!.trim()] = Number(m[2]);
  }
  return skills;
}

function parseCapacity(text: string): StaffMember['capacity'] {
  const capacity: StaffMember['capacity'] = { voice: 1, chat: 3, sms: 5, email: 5, total: 8 };
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d{1,2})$/.exec(part);
    if (!m) throw new UsageError(`--capacity: "${part}" must be channel=number`);
    const key = m[1] as keyof typeof capacity;
    if (key !== 'total' && !isChannelName(key)) throw new UsageError(`--capacity: unknown channel "${m[1]}" (voice, chat, sms, email, api, whatsapp or total)`);
    capacity[key] = Number(m[2]);
  }
  return capacity;
}
