// A data-protection export as pieces of JSON text made as its parts are read (no I/O here): the
// same text `JSON.stringify(document, null, 2)` makes, with each long part (an async iterable,
// such as a store cursor) written item by item, so the document is never held whole.

/** The fields in the document's order; a value that is an async iterable is written as an array, item by item. */
export async function* exportPieces(document: Record<string, unknown>): AsyncGenerator<string> {
  let fields = 0;
  yield '{';
  for (const [key, value] of Object.entries(document)) {
    if (value === undefined) continue;
    yield `${fields++ ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (!isAsyncIterable(value)) {
      yield indented(JSON.stringify(value, null, 2), 1);
      continue;
    }
    let items = 0;
    for await (const item of value) yield `${items++ ? ',' : '['}\n    ${indented(JSON.stringify(item, null, 2) ?? 'null', 2)}`;
    yield items ? '\n  ]' : '[]';
  }
  yield fields ? '\n}' : '}';
}

/** JSON text `depth` levels in: a newline in the text is always structure (strings escape theirs). */
function indented(json: string, depth: number): string {
  return json.replace(/\n/g, `\n${'  '.repeat(depth)}`);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
