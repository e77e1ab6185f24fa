// Runs SPF, DKIM and DMARC on a received mail with mailauth, against the configured DNS, within a
// deadline. An adapter: the verdict itself is judged in src/sender-authentication.ts.
import { authenticate, type AuthenticateOptions } from 'mailauth';
import type { SenderAuthentication } from '#libs/proto';
import type { DnsLookup } from './dns';
import { judgeSender, temporaryVerdict, type AuthResultsLike } from './sender-authentication';

/** What the SMTP session knows about who handed the mail over. */
export interface SmtpClient {
  /** The connecting client's IP address. */
  ip: string;
  /** The name it gave in HELO/EHLO. */
  helo: string;
  /** The envelope sender (MAIL FROM); empty for a bounce. */
  mailFrom: string;
}

export interface SenderCheckOptions {
  lookup: DnsLookup;
  /** Our host name, for the results' authserv-id. */
  mta: string;
  timeoutMs: number;
}

class SenderCheckError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'SenderCheckError';
  }
}

export interface SenderCheck {
  authentication: SenderAuthentication;
  /** Why the check could not finish; the verdict is then temporary. */
  problem?: SenderCheckError;
}

export async function checkSender(raw: Buffer, senderAddress: string, client: SmtpClient, options: SenderCheckOptions): Promise<SenderCheck> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SenderCheckError(`sender check did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
  });
  try {
    const opts: AuthenticateOptions = {
      ip: client.ip,
      helo: client.helo,
      sender: client.mailFrom,
      mta: options.mta,
      resolver: options.lookup,
      // ARC would trust the results of intermediaries we know nothing about; BIMI is for logos.
      disableArc: true,
      disableBimi: true,
    };
    const results = await Promise.race([authenticate(raw, opts), deadline]);
    return { authentication: judgeSender(senderAddress, results as unknown as AuthResultsLike) };
  } catch (err) {
    const problem =
      err instanceof SenderCheckError
        ? err
        : new SenderCheckError(`sender check failed after ${Date.now() - started} ms: ${err instanceof Error ? err.message : String(err)}`, err);
    return { authentication: temporaryVerdict(senderAddress), problem };
  } finally {
    clearTimeout(timer);
  }
}
