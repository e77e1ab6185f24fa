// Phone numbers as the contact centre dials them.

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
export function isE164(number: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(number);
}
