// Supervisors read and replace the queues' opening hours. A set that does not parse is refused
// whole (INVALID_ARGUMENT naming each problem) and nothing changes; an accepted one is committed
// to the changelog, with who changed it and when, before the answer.
import type { Logger } from '#libs/observability';
import type { RoutingServiceServer } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { CalendarError, parseCalendars } from '#libs/calendars';
import type { HandlerDeps } from './grpc-calls';

export function calendarHandlers({ current, unary }: HandlerDeps, logger: Logger): Pick<RoutingServiceServer, 'getCalendars' | 'setCalendars'> {
  return {
    getCalendars: unary('GetCalendars', ['supervisor'], async () => ({ calendarsJson: JSON.stringify(current().engine.calendars) })),
    setCalendars: unary('SetCalendars', ['supervisor'], async (caller, req) => {
      let set;
      try {
        set = parseCalendars(req.calendarsJson);
      } catch (err) {
        if (err instanceof CalendarError) throw new InvalidArgumentError(err.message);
        throw err;
      }
      const { engine, runner } = current();
      await runner.run(() => engine.setCalendars(set, caller.id));
      // The audit line: who replaced the hours of which queues (no customer data in it).
      logger.info({ supervisor: caller.id, queues: Object.keys(set) }, 'calendars replaced by a supervisor');
      return { calendarsJson: JSON.stringify(engine.calendars) };
    }),
  };
}
