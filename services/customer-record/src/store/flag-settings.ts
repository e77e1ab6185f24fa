// What makes a customer VIP or institutional besides the regular-customer rule: a supervisor's
// setting on the customer, or membership of an account.
import type { CustomerFlagName } from '#libs/contact';
import { FailedPreconditionError, NotFoundError } from '#libs/service/grpc-errors';
import { overrideField, supervisorFlag } from '../flags';
import type { CustomerDirectory } from './customers';
import type { AccountDoc, Actor, Collections, CustomerDoc } from './records';
import type { WriteQueue } from './write-queue';

export class FlagSettings {
  constructor(
    private readonly c: Collections,
    private readonly writes: WriteQueue,
    private readonly directory: CustomerDirectory,
  ) {}

  /** A supervisor's setting of a flag; `on: null` removes it, so the rule or the account decides again. */
  async setFlag(customerId: string, kind: CustomerFlagName, on: boolean | null, reason: string, actor: Actor): Promise<CustomerDoc> {
    return this.writes.exclusive(async () => {
      const c = await this.directory.getCustomer(customerId);
      if (c.mergedInto) throw new FailedPreconditionError(`customer ${customerId} was merged into ${c.mergedInto}`);
      const field = overrideField(kind);
      await this.c.customers.updateOne({ _id: customerId }, { $set: { [field]: on === null ? null : supervisorFlag(on, reason, actor.id, new Date()) } });
      this.writes.changed([customerId]);
      return this.directory.getCustomer(customerId);
    });
  }

  async upsertAccount(a: AccountDoc): Promise<AccountDoc> {
    return this.writes.exclusive(async () => {
      if (a.memberCustomerIds.length) {
        const found = await this.c.customers.find({ _id: { $in: a.memberCustomerIds } }, { projection: { _id: 1 } }).toArray();
        const missing = a.memberCustomerIds.filter((id) => !found.some((f) => f._id === id));
        if (missing.length) throw new NotFoundError(`no customer ${missing.slice(0, 5).join(', ')}`);
      }
      await this.c.accounts.updateOne(
        { _id: a._id },
        { $set: { name: a.name, managerAgentId: a.managerAgentId, vip: a.vip, institutional: a.institutional, memberCustomerIds: a.memberCustomerIds } },
        { upsert: true },
      );
      await this.c.customers.updateMany({ accountId: a._id, _id: { $nin: a.memberCustomerIds } }, { $set: { accountId: null } });
      if (a.memberCustomerIds.length) await this.c.customers.updateMany({ _id: { $in: a.memberCustomerIds } }, { $set: { accountId: a._id } });
      this.writes.changed('all');
      return (await this.c.accounts.findOne({ _id: a._id }))!;
    });
  }

  async findAccount(accountId: string | null): Promise<AccountDoc | null> {
    return accountId ? this.c.accounts.findOne({ _id: accountId }) : null;
  }
}
