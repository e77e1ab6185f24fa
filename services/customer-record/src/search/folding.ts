// Text folded as the index's tokenizer folds it (FTS5 unicode61, remove_diacritics 2: case and
// diacritics), and the rule of the officer's look-up by name on top of it: every word typed is
// the start of a word of the name ("ann" finds Anna and Ann-Marie, not Joanna). Pure.

/** Folded as the tokenizer folds, or more: a word FTS5 finds in a text is always in its folded text. */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The words of a text as the tokenizer splits them, folded. */
function wordsOf(text: string): string[] {
  return fold(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Every word typed is the start of a word of the name. */
export function nameHolds(name: string, typed: readonly string[]): boolean {
  const words = wordsOf(name);
  return typed.flatMap(wordsOf).every((t) => words.some((w) => w.startsWith(t)));
}

/** The same rule as an FTS5 query (`"ann"* AND "muller"*`); undefined when nothing typed holds a letter or digit. */
export function nameMatch(typed: readonly string[]): string | undefined {
  const terms = typed.flatMap(wordsOf);
  return terms.length ? terms.map((t) => `"${t}"*`).join(' AND ') : undefined;
}
