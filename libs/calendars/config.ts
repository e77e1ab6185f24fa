// The calendars as an environment setting: routing decides with them, the email service words its
// acknowledgement with them, so both read the same JSON with the same checks.
import { z } from 'zod';
import { CalendarError, parseCalendars } from './set';

/** An optional JSON calendar set (queue pattern to calendar); every problem becomes its own config issue. */
export const calendarsJson = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined;
    try {
      return parseCalendars(s);
    } catch (err) {
      if (!(err instanceof CalendarError)) throw err;
      for (const problem of err.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
  });
