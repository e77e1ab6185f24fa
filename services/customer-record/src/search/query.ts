// The SQL of a search, built from a checked filter and the searcher's scope. Every value is a
// bound parameter; FTS terms arrive quoted (filter.ts), so nothing typed becomes SQL or an operator.
import type { SearchScope } from './conversation-index';
import type { SearchFilter } from './filter';

export interface SqlQuery {
  sql: string;
  params: (string | number)[];
}

const COLUMNS = 'c.id, c.conversation_id, c.customer_id, c.channel, c.state, c.queue, c.agent_id, c.started_at, c.last_activity_at, c.message_count, c.subject';

function customerClause(f: SearchFilter, s: SearchScope, params: (string | number)[]): string | undefined {
  const identities = s.customerIdentities ?? [];
  if (!f.customerId) return undefined;
  params.push(f.customerId);
  if (!identities.length) return 'c.customer_id = ?';
  const ors = identities.map((i) => {
    params.push(i.kind, i.value);
    return '(i.kind = ? AND i.value = ?)';
  });
  return `(c.customer_id = ? OR c.id IN (SELECT i.conv FROM identities i WHERE ${ors.join(' OR ')}))`;
}

/** The conditions on the conversation row, every filter but the words and the page. */
function conversationClauses(f: SearchFilter, s: SearchScope): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, ...values: (string | number)[]) => {
    where.push(clause);
    params.push(...values);
  };
  const customer = customerClause(f, s, params);
  if (customer) where.push(customer);
  if (f.conversationId) add('c.conversation_id = ?', f.conversationId);
  if (f.identity) add('c.id IN (SELECT i.conv FROM identities i WHERE i.kind = ? AND i.value = ?)', f.identity.kind, f.identity.value);
  if (f.agentId) add('c.agent_id = ?', f.agentId);
  if (f.queue) add('c.queue = ?', f.queue);
  if (f.channel) add('c.channel = ?', f.channel);
  if (f.states) add(`c.state IN (${f.states.map(() => '?').join(', ')})`, ...f.states);
  if (f.activeFrom !== undefined) add('c.last_activity_at >= ?', f.activeFrom);
  if (f.activeTo !== undefined) add('c.last_activity_at < ?', f.activeTo);
  if (s.readerId)
    add('c.id IN (SELECT p.conv FROM people p WHERE p.person_id = ? AND (p.released_at IS NULL OR p.released_at >= ?))', s.readerId, s.now - s.windowMs);
  return { where, params };
}

/** Newest activity first, one more than a page (whether there is a next page, without counting). */
export function searchQuery(f: SearchFilter, s: SearchScope): SqlQuery {
  const { where, params } = conversationClauses(f, s);
  if (f.after && 'seq' in f.after) {
    where.push('(c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))');
    params.push(f.after.lastActivityAt, f.after.lastActivityAt, f.after.seq);
  }
  const sql = [
    `SELECT ${COLUMNS} FROM conversations c`,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?',
  ]
    .filter(Boolean)
    .join(' ');
  return { sql, params: [...params, f.limit + 1] };
}

/**
 * A search by words: every matching message of a conversation that passes the other filters,
 * newest message first (a message's place in the index is its time, sqlite-index.ts), so FTS5
 * walks its matches in that order and the caller stops after a page of conversations instead of
 * gathering and sorting every match. A conversation comes once per matching message; the caller
 * keeps the first (its newest).
 */
export function wordSearchQuery(f: SearchFilter & { match: string }, s: SearchScope): SqlQuery {
  const { where, params } = conversationClauses(f, s);
  where.unshift('m.messages MATCH ?');
  params.unshift(f.match);
  if (f.after && 'messageSeq' in f.after) {
    where.push('m.rowid < CAST(? AS INTEGER)');
    params.push(f.after.messageSeq);
  }
  const sql = `SELECT ${COLUMNS}, m.rowid AS hit FROM messages m JOIN message_texts t ON t.id = m.rowid JOIN conversations c ON c.id = t.conv WHERE ${where.join(' AND ')} ORDER BY m.rowid DESC`;
  return { sql, params };
}

/**
 * One message's text with the words marked, for a search by words. Asked message by message:
 * FTS5 seeks a rowid directly, where `rowid IN (…)` would run the whole match again per hit.
 * The rowid is cast: FTS5 passes over a rowid bound as a JavaScript number (a real) and would
 * answer the first match of any conversation (the same for the page's bound in wordSearchQuery).
 */
export const SNIPPET_SQL = "SELECT snippet(messages, 0, '[', ']', '…', 12) AS snippet FROM messages WHERE messages MATCH ? AND rowid = CAST(? AS INTEGER)";
