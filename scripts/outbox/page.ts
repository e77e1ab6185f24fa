// The page of every SMS and call instruction the local Twilio stand-in received. Every piece of
// text on it came from a request, so all of it is escaped; the page runs no script at all.

/** One REST request that would have reached a customer: an SMS, or instructions for a call. */
export interface SentItem {
  kind: 'sms' | 'call';
  sid: string;
  to: string;
  from: string;
  /** The SMS text, or what the call was told to do (TwiML, or the URL Twilio would fetch it from). */
  body: string;
  at: Date;
  /** Set when the request names the conversation it belongs to. */
  conversationId?: string;
  /** A new call's StatusCallback: where Twilio reports the call's progress. */
  statusCallback?: string;
  /** A WhatsApp template's Content SID and the variables it was filled with (JSON). */
  contentSid?: string;
  contentVariables?: string;
}

export interface PageLinks {
  /** The ops console's address; a conversation links to its timeline there. */
  consoleUrl: string;
  /** Where Mailpit's web view is, when npm start runs it. */
  mailUrl?: string;
}

export const PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.body{white-space:pre-wrap;word-break:break-word;max-width:40rem}.kind{font-weight:600}.none{color:#888}`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function conversationCell(item: SentItem, links: PageLinks): string {
  if (!item.conversationId) return '<span class="none">not named in the request</span>';
  const href = `${links.consoleUrl.replace(/\/$/, '')}/#timeline=${encodeURIComponent(item.conversationId)}`;
  return `<a href="${escapeHtml(href)}">${escapeHtml(item.conversationId)}</a>`;
}

function row(item: SentItem, links: PageLinks): string {
  const at = item.at.toISOString();
  return (
    '<tr>' +
    `<td><time datetime="${at}">${at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time></td>` +
    `<td class="kind">${item.kind === 'sms' ? 'SMS' : 'call'}</td>` +
    `<td>${escapeHtml(item.to)}</td><td>${escapeHtml(item.from)}</td>` +
    `<td class="body">${escapeHtml(item.contentVariables ? `${item.body} ${item.contentVariables}` : item.body)}</td>` +
    `<td>${conversationCell(item, links)}</td>` +
    `<td><code>${escapeHtml(item.sid)}</code></td>` +
    '</tr>'
  );
}

/** The whole page, newest first; it reloads itself every 5 s (a meta refresh needs no script). */
export function outboxPage(items: readonly SentItem[], links: PageLinks): string {
  // Reversed first: among items of the same millisecond, the later request comes first.
  const newestFirst = [...items].reverse().sort((a, b) => b.at.getTime() - a.at.getTime());
  const mail = links.mailUrl ? ` Mail to customers is in <a href="${escapeHtml(links.mailUrl)}">Mailpit</a>.` : '';
  const rows = newestFirst.length ? newestFirst.map((item) => row(item, links)).join('\n') : '<tr><td colspan="7" class="none">Nothing sent yet.</td></tr>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Outbox: SMS and calls</title>
<link rel="stylesheet" href="/outbox.css">
</head>
<body>
<h1>SMS and calls sent</h1>
<p>Every request the SMS and voice service made to Twilio's REST API, newest first (${newestFirst.length} kept).${mail}</p>
<table>
<thead><tr><th>time</th><th>what</th><th>to</th><th>from</th><th>text or instructions</th><th>conversation</th><th>sid</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
