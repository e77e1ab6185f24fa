// The SQL of a search, built from a checked filter and the searcher's scope. Every value is a
// bound parameter; FTS terms arrive quoted (filter.ts), so nothing typed becomes SQL or an operator.
import type { SearchScope } from './conversation-index';
import type { SearchFilter } from './filter';

export interface SqlQuery {
  sql: string;
  params: (string | number)[];
}

const WORD_MATCH = 'SELECT t.conv FROM messages JOIN message_texts t ON t.id = messages.rowid WHERE messages MATCH ?';

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

export function searchQuery(f: SearchFilter, s: SearchScope): SqlQuery {
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
  if (f.match) add(`c.id IN (${WORD_MATCH})`, f.match);
  if (s.readerId)
    add('c.id IN (SELECT p.conv FROM people p WHERE p.person_id = ? AND (p.released_at IS NULL OR p.released_at >= ?))', s.readerId, s.now - s.windowMs);
  if (f.after) add('(c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))', f.after.lastActivityAt, f.after.lastActivityAt, f.after.seq);
  const sql = [
    'SELECT c.id, c.conversation_id, c.customer_id, c.channel, c.state, c.queue, c.agent_id, c.started_at, c.last_activity_at, c.message_count, c.subject',
    'FROM conversations c',
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?',
  ]
    .filter(Boolean)
    .join(' ');
  // One more than a page: whether there is a next page without counting.
  return { sql, params: [...params, f.limit + 1] };
}

/**
 * One message's text with the words marked, for a search by words. Asked message by message:
 * FTS5 seeks a rowid directly, where `rowid IN (…)` would run the whole match again per hit.
 */
export const SNIPPET_SQL = "SELECT snippet(messages, 0, '[', ']', '…', 12) AS snippet FROM messages WHERE messages MATCH ? AND rowid = ?";
