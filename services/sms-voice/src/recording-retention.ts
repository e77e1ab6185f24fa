// Recordings past their retention: Twilio is asked to delete each (the real twilio client's
// `recordings(sid).remove()`), and the store remembers the deletion. A recording Twilio no
// longer has (404: deleted in the console, or by another instance's sweep) counts as deleted.
// An erasure makes its conversation's recordings due at once (erasure.ts) and runs a sweep.
import type { Counter, Registry } from 'prom-client';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import type { CallRecording, SmsVoiceStore } from './store';
import type { TwilioClient } from './twilio-client';

const BATCH = 100;

export class RecordingRetention {
  private sweeping = false;
  private readonly counted: Counter<'outcome'>;

  constructor(private readonly deps: { store: SmsVoiceStore; client: TwilioClient; logger: Logger; metrics: Registry; now?: () => Date }) {
    this.counted = sharedCounter(deps.metrics, {
      name: 'cc_sms_voice_recordings_deleted_total',
      help: 'Call recordings past their retention, by outcome of the deletion asked of Twilio',
      labelNames: ['outcome'],
    });
  }

  /** One pass over the recordings due; one whose deletion fails is tried again on the next pass. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.deps.now?.() ?? new Date();
      for (const recording of await this.deps.store.recordingsToDelete(now, BATCH)) await this.delete(recording);
    } catch (err) {
      this.deps.logger.warn({ ...errorDetails(err) }, 'recordings past their retention not looked up; the next sweep tries again');
    } finally {
      this.sweeping = false;
    }
  }

  private async delete(recording: CallRecording): Promise<void> {
    const { _id: sid, conversationId } = recording;
    try {
      await this.deps.client.recordings(sid).remove();
      this.counted.inc({ outcome: 'deleted' });
    } catch (err) {
      if ((err as { status?: number }).status !== 404) {
        this.counted.inc({ outcome: 'failed' });
        this.deps.logger.warn({ recordingSid: sid, conversationId, ...errorDetails(err) }, 'recording not deleted yet; the next sweep tries again');
        return;
      }
      this.counted.inc({ outcome: 'already_gone' });
    }
    // An erased conversation's recording leaves no trace once Twilio has deleted it.
    if (recording.erased) await this.deps.store.forgetRecording(sid);
    else await this.deps.store.recordingDeleted(sid, new Date());
  }
}
