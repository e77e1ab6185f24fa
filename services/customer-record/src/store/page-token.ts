// Page tokens of the newest-first listings: the time and id of the last row a page showed.
import { InvalidArgumentError } from '#libs/service/grpc-errors';

export function encodePageToken(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

export function decodePageToken(token: string): { at: Date; id: string } {
  try {
    const [t, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof t !== 'number' || typeof id !== 'string') throw new Error('shape');
    return { at: new Date(t), id };
  } catch {
    throw new InvalidArgumentError('page_token is not one this service issued');
  }
}
