// The spool's file adapter on a real folder: durable appends, resuming after the marker,
// removing what was forwarded, and one owner per folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ContactReceived } from '#libs/proto';
import { SpoolFiles, SpoolLockedError } from '../src/spool-files';
import { encodeSpoolLine, spoolRecordOf } from '../src/spool-records';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sms-voice-spool-files-'));
  dirs.push(dir);
  return dir;
};
const line = (n: number) => encodeSpoolLine(spoolRecordOf(ContactReceived.fromPartial({ contactId: `sms-SM${n}`, conversationId: `conv-${n}` }), new Date()));
const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('segment-'));

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('spool files', () => {
  it('appends in order, and a reopened spool resumes after what was marked forwarded', async () => {
    const dir = newDir();
    const { files, records } = await SpoolFiles.open(dir, logger);
    expect(records).toEqual([]);
    const positions = await Promise.all([1, 2, 3].map((n) => files.append(line(n))));
    expect(positions.map((p) => p.segment)).toEqual([1, 1, 1]);
    expect(positions[2]!.end).toBe(readFileSync(path.join(dir, segments(dir)[0]!)).length);
    await files.forwarded(positions[1]!);
    await files.close();
    const again = await SpoolFiles.open(dir, logger);
    expect(again.records.map((r) => r.record.id)).toEqual(['sms-SM3']);
    // New records go to a new segment, never after a possibly torn end of an old one.
    const next = await again.files.append(line(4));
    expect(next.segment).toBe(2);
    await again.files.forwarded(again.records[0]!.position);
    expect(segments(dir)).toEqual(['segment-000000000002.log']);
    await again.files.forwarded(next);
    expect(segments(dir)).toEqual([]); // drained: nothing left on disk
    expect((await again.files.append(line(5))).segment).toBe(3);
    await again.files.close();
  });

  it('blanks forwarded lines in place: every other position holds, and a reopened spool reads nothing of them', async () => {
    const dir = newDir();
    const { files } = await SpoolFiles.open(dir, logger);
    const positions = await Promise.all([1, 2, 3].map((n) => files.append(line(n))));
    const size = readFileSync(path.join(dir, segments(dir)[0]!)).length;
    expect(await files.forwardedRecords()).toEqual([]);
    await files.forwarded(positions[1]!);
    expect((await files.forwardedRecords()).map((r) => r.record.id)).toEqual(['sms-SM1', 'sms-SM2']);
    expect(await files.blank([positions[0]!])).toBe(1);
    const bytes = readFileSync(path.join(dir, segments(dir)[0]!));
    expect(bytes.length).toBe(size);
    expect(bytes.toString('utf8')).not.toContain(line(1).toString('utf8').trim());
    expect((await files.forwardedRecords()).map((r) => r.record.id)).toEqual(['sms-SM2']);
    await files.close();
    const again = await SpoolFiles.open(dir, logger);
    expect(again.skipped).toEqual([]);
    expect(again.records.map((r) => r.record.id)).toEqual(['sms-SM3']);
    await again.files.close();
  });

  it('refuses a folder a live process holds, and takes over the lock of one that is gone', async () => {
    const dir = newDir();
    writeFileSync(path.join(dir, 'lock'), `${process.ppid}\n`);
    await expect(SpoolFiles.open(dir, logger)).rejects.toThrow(SpoolLockedError);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(path.join(dir, 'lock'), `${gone}\n`);
    const { files } = await SpoolFiles.open(dir, logger);
    expect(readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    await files.close();
    expect(readdirSync(dir)).not.toContain('lock');
  });
});
