// Why the mail exchanger refuses a connection, a sender, a recipient or a mail. Each carries
// what it is about; smtp-replies.ts is the one place that turns it into an SMTP reply code.

/** The base of every refusal. */
export class MailRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The client's address already holds its share of open connections. */
export class TooManyOpenConnectionsError extends MailRefusal {
  constructor(readonly limit: number) {
    super(`Too many open connections from your address (the limit is ${limit}); try again later`);
  }
}

/** The client's address opened more connections this minute than it may. */
export class ConnectionRateError extends MailRefusal {
  constructor() {
    super('Too many connections from your address; try again later');
  }
}

/** The sender address sent more messages this minute than it may. */
export class SenderRateError extends MailRefusal {
  constructor() {
    super('Too many messages from this sender; try again later');
  }
}

/** Mail for an address that is not one of ours: the server is no relay. */
export class RelayDeniedError extends MailRefusal {
  constructor(readonly recipient: string) {
    super(`<${recipient}>: relay access denied, this server only receives mail for its own addresses`);
  }
}

/** The message could not be read as a mail at all. */
export class UnparsableMailError extends MailRefusal {
  constructor(detail: string) {
    super(`The message could not be parsed: ${detail}`);
  }
}
