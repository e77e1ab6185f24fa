// The spool on local disk (node:fs): segment files of lines that are only ever appended, a
// marker saying how far the forwarder got, and a lock so one process at a time owns the folder.
// Every append is written and fsynced before it resolves; appends that arrive during a write
// share the next write and fsync, as commits share a database's log flush.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '#libs/observability';
import { decodeSpoolSegment, type DecodedRecord, type SkippedLine, type SpoolRecord } from './spool-records';

export interface SpoolPosition {
  segment: number;
  /** Byte offset just after the record. */
  end: number;
}

export interface LoadedRecord extends DecodedRecord {
  position: SpoolPosition;
  size: number;
}

export class SpoolLockedError extends Error {
  constructor(
    readonly dir: string,
    holder: string,
  ) {
    super(`spool folder ${dir} is in use by ${holder}; give each instance its own SMS_VOICE_SPOOL_DIR`);
    this.name = 'SpoolLockedError';
  }
}

/** A new segment is started past this size, so forwarded records free their disk space soon. */
const SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^segment-(\d{12})\.log$/;
const MARKER = 'forwarded';
/** Folders held by this process: a second instance in the same process must not share one. */
const heldHere = new Set<string>();

interface Waiting {
  line: Buffer;
  resolve: (position: SpoolPosition) => void;
  reject: (err: Error) => void;
}

export class SpoolFiles {
  private readonly sealed = new Map<number, number>(); // segment -> size, segments no longer written
  private active?: { segment: number; file: fs.FileHandle; size: number };
  private nextSegment: number;
  private readonly waiting: Waiting[] = [];
  private flushQueued = false;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
    segments: Map<number, number>,
    /** How far the forwarder got: records up to here are on Kafka. */
    private marker: SpoolPosition | undefined,
  ) {
    for (const [segment, size] of segments) this.sealed.set(segment, size);
    this.nextSegment = Math.max(0, ...segments.keys()) + 1;
  }

  /** Takes the folder, and reads what a previous process left: the records not yet forwarded, in order. */
  static async open(dir: string, logger: Logger): Promise<{ files: SpoolFiles; records: LoadedRecord[]; skipped: (SkippedLine & { file: string })[] }> {
    const absolute = path.resolve(dir);
    await fs.mkdir(absolute, { recursive: true, mode: 0o700 });
    await takeLock(absolute);
    try {
      const marker = await readMarker(absolute, logger);
      const names = (await fs.readdir(absolute)).filter((n) => SEGMENT_NAME.test(n)).sort();
      const segments = new Map<number, number>();
      const records: LoadedRecord[] = [];
      const skipped: (SkippedLine & { file: string })[] = [];
      for (const name of names) {
        const segment = Number(SEGMENT_NAME.exec(name)![1]);
        const file = path.join(absolute, name);
        if (marker && segment < marker.segment) {
          await fs.unlink(file); // forwarded entirely; the last process stopped before removing it
          continue;
        }
        const bytes = await fs.readFile(file);
        segments.set(segment, bytes.length);
        const decoded = decodeSpoolSegment(bytes);
        const done = marker && segment === marker.segment ? marker.end : 0;
        let start = 0;
        for (const r of decoded.records) {
          if (r.end > done) records.push({ ...r, position: { segment, end: r.end }, size: r.end - start });
          start = r.end;
        }
        for (const s of decoded.skipped) if (s.offset >= done) skipped.push({ ...s, file: name });
      }
      return { files: new SpoolFiles(absolute, logger, segments, marker), records, skipped };
    } catch (err) {
      await releaseLock(absolute);
      throw err;
    }
  }

  /** Resolves once the line is on disk and fsynced. */
  append(line: Buffer): Promise<SpoolPosition> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ line, resolve, reject });
      if (this.flushQueued) return;
      this.flushQueued = true;
      void this.serially(() => this.flush());
    });
  }

  /** Everything up to `upTo` reached Kafka: the marker moves there, and whole forwarded segments are removed. */
  forwarded(upTo: SpoolPosition): Promise<void> {
    return this.serially(async () => {
      await writeDurably(this.dir, MARKER, `${upTo.segment} ${upTo.end}\n`);
      this.marker = upTo;
      for (const [segment, size] of this.sealed) {
        if (segment < upTo.segment || (segment === upTo.segment && upTo.end >= size)) {
          await fs.unlink(this.segmentFile(segment));
          this.sealed.delete(segment);
        }
      }
      // Drained: the active segment goes too, and the next record starts a new one.
      if (this.active && this.active.segment === upTo.segment && upTo.end >= this.active.size && this.waiting.length === 0) {
        const { file, segment } = this.active;
        this.active = undefined;
        await file.close();
        await fs.unlink(this.segmentFile(segment));
      }
    });
  }

  /** The records still on disk that were forwarded already (the rest of their segment is not yet). */
  forwardedRecords(): Promise<{ record: SpoolRecord; position: SpoolPosition }[]> {
    return this.serially(async () => {
      const marker = this.marker;
      if (!marker) return [];
      const found: { record: SpoolRecord; position: SpoolPosition }[] = [];
      for (const segment of this.segmentsOnDisk()) {
        if (segment > marker.segment) continue;
        const bytes = await readIfThere(this.segmentFile(segment));
        for (const r of bytes ? decodeSpoolSegment(bytes).records : [])
          if (segment < marker.segment || r.end <= marker.end) found.push({ record: r.record, position: { segment, end: r.end } });
      }
      return found;
    });
  }

  /**
   * Overwrites the lines ending at these positions with spaces, fsynced: the same length, so
   * every other position holds, and read back as nothing. A segment already removed is skipped.
   */
  blank(positions: readonly SpoolPosition[]): Promise<number> {
    return this.serially(async () => {
      let blanked = 0;
      for (const segment of new Set(positions.map((p) => p.segment))) {
        const file = this.segmentFile(segment);
        const bytes = await readIfThere(file);
        if (!bytes) continue;
        const handle = await fs.open(file, 'r+');
        try {
          for (const { end } of positions.filter((p) => p.segment === segment)) {
            const start = bytes.lastIndexOf(0x0a, end - 2) + 1;
            if (end - 1 > start) await handle.write(Buffer.alloc(end - 1 - start, ' '), 0, end - 1 - start, start);
            blanked++;
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      return blanked;
    });
  }

  private segmentsOnDisk(): number[] {
    return [...this.sealed.keys(), ...(this.active ? [this.active.segment] : [])];
  }

  async close(): Promise<void> {
    await this.serially(async () => {
      if (this.active) await this.active.file.close();
      this.active = undefined;
    });
    await releaseLock(this.dir);
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.waiting.splice(0);
    if (batch.length === 0) return;
    try {
      const active = await this.activeSegment();
      const bytes = Buffer.concat(batch.map((w) => w.line));
      let written = 0;
      while (written < bytes.length) written += (await active.file.write(bytes, written, bytes.length - written, active.size + written)).bytesWritten;
      await active.file.sync();
      let end = active.size;
      for (const w of batch) w.resolve({ segment: active.segment, end: (end += w.line.length) });
      active.size = end;
      if (active.size >= SEGMENT_BYTES) await this.seal();
    } catch (err) {
      // A failed write may leave part of a line behind: later lines go to a new segment, and
      // the part is skipped when the segment is read.
      this.logger.error({ dir: this.dir, records: batch.length, error: (err as Error).message }, 'spool write failed');
      await this.seal().catch((closeErr: unknown) =>
        this.logger.error({ dir: this.dir, error: (closeErr as Error).message }, 'closing the spool segment failed'),
      );
      for (const w of batch) w.reject(err as Error);
    }
  }

  private async activeSegment(): Promise<{ segment: number; file: fs.FileHandle; size: number }> {
    if (this.active) return this.active;
    const segment = this.nextSegment++;
    const file = await fs.open(this.segmentFile(segment), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await syncDir(this.dir); // the new file's name is durable too
    this.active = { segment, file, size: 0 };
    return this.active;
  }

  private async seal(): Promise<void> {
    if (!this.active) return;
    const { segment, file, size } = this.active;
    this.active = undefined;
    this.sealed.set(segment, size);
    await file.close();
  }

  private segmentFile(segment: number): string {
    return path.join(this.dir, `segment-${String(segment).padStart(12, '0')}.log`);
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(step);
    this.chain = run.then(
      () => undefined,
      () => undefined, // the caller of this step gets its error; the chain goes on
    );
    return run;
  }
}

async function readMarker(dir: string, logger: Logger): Promise<SpoolPosition | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MARKER), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const match = /^(\d+) (\d+)\n$/.exec(text);
  if (!match) {
    // Forwarding again from the start only repeats events consumers already de-duplicate.
    logger.warn({ dir }, 'spool marker unreadable; forwarding every spooled record again');
    return undefined;
  }
  return { segment: Number(match[1]), end: Number(match[2]) };
}

async function readIfThere(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeDurably(dir: string, name: string, content: string): Promise<void> {
  const temporary = path.join(dir, `${name}.tmp`);
  const file = await fs.open(temporary, 'w', 0o600);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(temporary, path.join(dir, name));
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One owner per folder: a lock file with the owner's pid, taken over when that process is gone. */
async function takeLock(dir: string): Promise<void> {
  if (heldHere.has(dir)) throw new SpoolLockedError(dir, 'another instance in this process');
  const lock = path.join(dir, 'lock');
  try {
    await fs.writeFile(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number((await fs.readFile(lock, 'utf8')).trim());
    // Our own pid in a lock we do not hold is a previous life of this container (pid 1 again).
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new SpoolLockedError(dir, `process ${holder}`);
    await fs.writeFile(lock, `${process.pid}\n`, { mode: 0o600 });
  }
  heldHere.add(dir);
}

async function releaseLock(dir: string): Promise<void> {
  if (!heldHere.delete(dir)) return;
  await fs.rm(path.join(dir, 'lock'), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}
