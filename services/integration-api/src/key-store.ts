// The API keys a supervisor made, in the store: the record of each (its hash, scopes, rate
// limit, who made and who revoked it), read by id, the only look-up the local store makes fast.
import type { Collection, Db } from 'mongodb';
import { issueKey, type Scope } from './keys';

export interface ApiKeyRecord {
  _id: string;
  /** The application that uses it (a shop, a CRM): names the contacts' sender namespace. */
  application: string;
  secretHash: string;
  scopes: Scope[];
  /** Requests per minute, per instance of the service. */
  ratePerMinute: number;
  createdBy: string;
  createdAt: Date;
  revokedAt?: Date;
  revokedBy?: string;
}

export class ApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyError';
  }
}

export class ApiKeyStore {
  readonly keys: Collection<ApiKeyRecord>;

  constructor(db: Db) {
    this.keys = db.collection<ApiKeyRecord>('api_keys');
  }

  /** Makes a key; the key itself is returned once and only its hash is kept. */
  async create(input: { application: string; scopes: Scope[]; ratePerMinute: number; createdBy: string }): Promise<{ record: ApiKeyRecord; key: string }> {
    const issued = issueKey();
    const record: ApiKeyRecord = { _id: issued.id, secretHash: issued.secretHash, ...input, createdAt: new Date() };
    await this.keys.insertOne(record);
    return { record, key: issued.key };
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    return this.keys.findOne({ _id: id });
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.keys.find({}).sort({ createdAt: 1 }).toArray();
  }

  /** Revokes a key for good: every later request with it is refused (401). */
  async revoke(id: string, revokedBy: string): Promise<ApiKeyRecord> {
    const found = await this.keys.findOne({ _id: id });
    if (!found) throw new ApiKeyError(`no API key ${id}`);
    if (found.revokedAt) throw new ApiKeyError(`API key ${id} was already revoked at ${found.revokedAt.toISOString()}`);
    const revoked = { ...found, revokedAt: new Date(), revokedBy };
    await this.keys.updateOne({ _id: id }, { $set: { revokedAt: revoked.revokedAt, revokedBy } });
    return revoked;
  }
}
