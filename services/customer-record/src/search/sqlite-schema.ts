// The index file's tables. One row per conversation with the filtered columns indexed for the
// searches people make (each sorted by last activity); identities and people beside it; message
// texts in an FTS5 table; the Kafka positions applied, written in the same transaction as rows.
// 2: a message's id is its time (ms × 1,024), so a search by words walks matches newest first.
// 3: the name each conversation's sender gave, in an FTS5 table of its own, for the officer's look-up by name.
export const SCHEMA_VERSION = 3;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset TEXT NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL UNIQUE,
  customer_id TEXT NOT NULL,
  channel INTEGER NOT NULL,
  state TEXT NOT NULL,
  queue TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  subject TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_activity ON conversations (last_activity_at);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations (customer_id, last_activity_at);
CREATE INDEX IF NOT EXISTS conversations_agent ON conversations (agent_id, state, last_activity_at);
CREATE INDEX IF NOT EXISTS conversations_queue ON conversations (queue, state, last_activity_at);
CREATE INDEX IF NOT EXISTS conversations_state ON conversations (state, last_activity_at);
CREATE TABLE IF NOT EXISTS identities (kind INTEGER NOT NULL, value TEXT NOT NULL, conv INTEGER NOT NULL, PRIMARY KEY (kind, value, conv)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS people (person_id TEXT NOT NULL, conv INTEGER NOT NULL, released_at INTEGER, PRIMARY KEY (person_id, conv)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_texts (id INTEGER PRIMARY KEY, conv INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS message_texts_conv ON message_texts (conv);
CREATE VIRTUAL TABLE IF NOT EXISTS messages USING fts5(text, content='message_texts', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS sender_names (conv INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(name, content='sender_names', content_rowid='conv', tokenize='unicode61 remove_diacritics 2');
`;
