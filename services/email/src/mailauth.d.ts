// The part of mailauth (4.x ships no types) that src/sender-check.ts calls.
declare module 'mailauth' {
  export interface AuthenticateOptions {
    ip?: string;
    helo?: string;
    sender?: string;
    mta?: string;
    resolver?: (name: string, rrtype: string) => Promise<unknown>;
    minBitLength?: number;
    disableArc?: boolean;
    disableDmarc?: boolean;
    disableBimi?: boolean;
    trustReceived?: boolean;
  }
  /** Loosely typed here: src/sender-authentication.ts names the fields it reads. */
  export function authenticate(input: Buffer | string | NodeJS.ReadableStream, options?: AuthenticateOptions): Promise<Record<string, unknown>>;
}
