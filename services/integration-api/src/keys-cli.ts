// The API key command, for supervisors: makes a key with scopes and a rate limit (shown once,
// kept hashed), revokes one, lists them. The supervisor named must be on the staff roster.
//   npm run api-keys -- create --supervisor sam --application shop --scopes contacts:write,queues:read --rate 600
//   npm run api-keys -- revoke --supervisor sam --id <key id>
//   npm run api-keys -- list
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { commonConfig, loadConfig } from '#libs/config';
import { runCommand } from '#libs/service/command';
import { staffDbConfig, StaffRoster } from '#libs/staff';
import { ApiKeyError, ApiKeyStore } from './key-store';
import { isScope, SCOPES, type Scope } from './keys';

const USAGE = `usage: npm run api-keys -- create --supervisor <staff id> --application <name> --scopes <${SCOPES.join(',')}> [--rate <per minute>]
       npm run api-keys -- revoke --supervisor <staff id> --id <key id>
       npm run api-keys -- list`;

class UsageError extends Error {}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { supervisor: { type: 'string' }, application: { type: 'string' }, scopes: { type: 'string' }, rate: { type: 'string' }, id: { type: 'string' } },
  });
  const command = positionals[0];
  if (command === 'list') return { command } as const;
  if (!values.supervisor) throw new UsageError('--supervisor is required: the staff id of the supervisor who does this');
  if (command === 'revoke') {
    if (!values.id) throw new UsageError('--id is required');
    return { command, supervisor: values.supervisor, id: values.id } as const;
  }
  if (command !== 'create') throw new UsageError(`unknown command ${command ?? '(none)'}`);
  const application = values.application ?? '';
  if (!/^[a-z0-9-]{1,30}$/.test(application)) throw new UsageError('--application: 1-30 of a-z, 0-9 and -, naming the application that uses the key');
  const scopes = (values.scopes ?? '').split(',').filter(Boolean);
  const unknown = scopes.filter((s) => !isScope(s));
  if (!scopes.length || unknown.length)
    throw new UsageError(`--scopes: one or more of ${SCOPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  const rate = Number(values.rate ?? 600);
  if (!Number.isInteger(rate) || rate < 1 || rate > 100_000) throw new UsageError('--rate: requests per minute, 1-100000');
  return { command, supervisor: values.supervisor, application, scopes: scopes as Scope[], ratePerMinute: rate } as const;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`api-keys: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const { MONGODB_URI, MONGODB_DATABASE, STAFF_DB } = loadConfig({
    MONGODB_URI: commonConfig.MONGODB_URI,
    MONGODB_DATABASE: commonConfig.MONGODB_DATABASE,
    ...staffDbConfig,
  });
  const client = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const store = new ApiKeyStore(client.db(MONGODB_DATABASE));
    if (args.command === 'list') {
      for (const k of await store.list())
        process.stdout.write(
          `${k._id}\t${k.application}\t${k.scopes.join(',')}\t${k.ratePerMinute}/min\tby ${k.createdBy} ${k.createdAt.toISOString()}${k.revokedAt ? `\trevoked by ${k.revokedBy} ${k.revokedAt.toISOString()}` : ''}\n`,
        );
      return 0;
    }
    const supervisor = await new StaffRoster(client.db(STAFF_DB)).get(args.supervisor);
    if (!supervisor || supervisor.role !== 'supervisor' || supervisor.disabled)
      throw new ApiKeyError(`${args.supervisor} is not an enabled supervisor on the staff roster`);
    if (args.command === 'revoke') {
      await store.revoke(args.id, supervisor.id);
      process.stdout.write(`revoked ${args.id}: every request with it is now refused (401)\n`);
      return 0;
    }
    const { record, key } = await store.create({
      application: args.application,
      scopes: args.scopes,
      ratePerMinute: args.ratePerMinute,
      createdBy: supervisor.id,
    });
    process.stderr.write(
      `made key ${record._id} for ${record.application} (${record.scopes.join(', ')}, ${record.ratePerMinute}/min); it is shown only now:\n`,
    );
    process.stdout.write(`${key}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ApiKeyError) {
      process.stderr.write(`api-keys: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await client.close();
  }
}

runCommand('api-keys', main);
