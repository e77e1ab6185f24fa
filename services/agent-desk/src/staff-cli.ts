// The staff command: adds people to the roster (or updates them), disables, enables and removes
// them, and lists it.
//   npm run staff -- add --id ana --name "Ana Lopez" --role agent --tier 1 --skills billing:3 ...
import { MongoClient } from 'mongodb';
import { ZodError } from 'zod';
import { loadConfig, z } from '#libs/config';
import { runCommand } from '#libs/service/command';
import { staffDbConfig, StaffError, StaffRoster } from '#libs/staff';
import { parseStaffArgs, USAGE, UsageError } from './staff-args';

async function readPassword(): Promise<string> {
  if (process.env.STAFF_PASSWORD) return process.env.STAFF_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password (at least 12 characters, then Enter): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseStaffArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`staff: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const config = loadConfig({
    MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017'),
    ...staffDbConfig,
  });
  const client = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const roster = new StaffRoster(client.db(config.STAFF_DB));
    if (parsed.command === 'list') {
      for (const m of await roster.list()) {
        const skills = Object.entries(m.skills)
          .map(([s, l]) => `${s}:${l}`)
          .join(',');
        const state = m.disabled ? '\tdisabled' : '';
        process.stdout.write(
          `${m.id}\t${m.role}\ttier ${m.tier}\t${m.name}\t${skills}\t${m.languages.join(',')}\t${Object.entries(m.capacity)
            .map(([c, n]) => `${c}=${n}`)
            .join(',')}\t${m.answerCallsOn === 'phone' ? `calls on ${m.phone}` : 'calls on softphone'}${state}\n`,
        );
      }
      return 0;
    }
    if (parsed.command !== 'add') {
      const { id } = parsed;
      if (parsed.command === 'disable') await roster.disable(id);
      else if (parsed.command === 'enable') await roster.enable(id);
      else await roster.remove(id);
      const said = {
        disable: `disabled ${id}: they can no longer sign in, and their sessions are ended`,
        enable: `enabled ${id}`,
        remove: `removed ${id} from the roster; their sessions are ended`,
      };
      process.stdout.write(`${said[parsed.command]}\n`);
      return 0;
    }
    const exists = (await roster.get(String(parsed.member.id))) !== null;
    const password = exists && !process.env.STAFF_PASSWORD && process.stdin.isTTY ? undefined : await readPassword();
    const member = await roster.upsert(parsed.member as Parameters<StaffRoster['upsert']>[0], password || undefined);
    process.stdout.write(`${exists ? 'updated' : 'added'} ${member.id} (${member.role}, tier ${member.tier})\n`);
    return 0;
  } catch (err) {
    if (err instanceof StaffError) {
      process.stderr.write(`staff: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ZodError) {
      process.stderr.write(`staff: ${err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}\n`);
      return 1;
    }
    throw err;
  } finally {
    await client.close();
  }
}

runCommand('staff', main);
