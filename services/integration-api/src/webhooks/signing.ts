// How deliveries are signed, as Standard Webhooks (standardwebhooks.com) does it, so integrators
// can verify with its libraries or the few lines in docs/integration-api.md: HMAC-SHA256 with the
// subscription's secret over `<webhook-id>.<webhook-timestamp>.<body>`, sent as
// `webhook-signature: v1,<base64>`. While a rotated secret is still honoured, both signatures are
// sent, separated by a space. No I/O.
import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A new secret: 32 random bytes, shown to the integrator once as `whsec_<base64>`. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The headers of one attempt: its id (the same on every attempt), the time it is sent, the signatures. */
export function signedHeaders(secrets: string[], id: string, at: Date, body: string): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signature(s, id, timestamp, body)).join(' '),
  };
}
