// The conference resources of the Twilio stand-in: participants added to a conference by its
// friendly name (the conference is created by the first), changed by conference and call sid
// (mute, hold with music, coach), and callers who joined with `<Dial><Conference>` TwiML. Each
// answer carries the fields of Twilio's Participant resource (2010-04-01).

export interface Participant {
  callSid: string;
  label: string;
  to: string;
  muted: boolean;
  hold: boolean;
  holdUrl: string;
  coaching: boolean;
  callSidToCoach: string;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
  created: Date;
  updated: Date;
}

interface Conference {
  sid: string;
  friendlyName: string;
  participants: Map<string, Participant>;
}

export class ConferenceNotFound extends Error {}

const flag = (form: URLSearchParams, name: string, otherwise: boolean) => (form.has(name) ? form.get(name) === 'true' : otherwise);

export class Conferences {
  private readonly byName = new Map<string, Conference>();
  private readonly bySid = new Map<string, Conference>();

  constructor(private readonly newSid: (prefix: string) => string) {}

  /** A conference by its sid, or (for adding participants, as Twilio allows) by its friendly name, created when new. */
  find(sidOrName: string, byName: boolean): Conference {
    const found = this.bySid.get(sidOrName) ?? (byName ? this.byName.get(sidOrName) : undefined);
    if (found) return found;
    if (!byName || sidOrName.startsWith('CF')) throw new ConferenceNotFound(`The requested resource /Conferences/${sidOrName} was not found`);
    const conference = { sid: this.newSid('CF'), friendlyName: sidOrName, participants: new Map<string, Participant>() };
    this.byName.set(sidOrName, conference);
    this.bySid.set(conference.sid, conference);
    return conference;
  }

  /** A new participant: a call placed to `To`, joining when it answers. */
  add(conference: Conference, form: URLSearchParams, at: Date): Participant {
    const callSid = this.newSid('CA');
    const participant: Participant = {
      callSid,
      label: form.get('Label') ?? '',
      to: form.get('To') ?? '',
      muted: flag(form, 'Muted', false),
      hold: false,
      holdUrl: '',
      coaching: flag(form, 'Coaching', false),
      callSidToCoach: form.get('CallSidToCoach') ?? '',
      startConferenceOnEnter: flag(form, 'StartConferenceOnEnter', true),
      endConferenceOnExit: flag(form, 'EndConferenceOnExit', false),
      created: at,
      updated: at,
    };
    conference.participants.set(callSid, participant);
    return participant;
  }

  /** A call told to `<Dial><Conference>` joins the conference of that name (a call leaves the one it was in). */
  joinByTwiml(callSid: string, twiml: string, at: Date): void {
    this.leave(callSid);
    const m = /<Conference\b([^>]*)>([^<]+)<\/Conference>/.exec(twiml);
    if (!m) return;
    const attribute = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(m[1]!)?.[1];
    const conference = this.find(m[2]!.trim(), true);
    conference.participants.set(callSid, {
      callSid,
      label: '',
      to: '',
      muted: attribute('muted') === 'true',
      hold: false,
      holdUrl: '',
      coaching: false,
      callSidToCoach: '',
      startConferenceOnEnter: attribute('startConferenceOnEnter') !== 'false',
      endConferenceOnExit: attribute('endConferenceOnExit') === 'true',
      created: at,
      updated: at,
    });
  }

  /** A call that ended leaves its conference. */
  leave(callSid: string): void {
    for (const conference of this.byName.values()) conference.participants.delete(callSid);
  }

  update(conference: Conference, callSid: string, form: URLSearchParams, at: Date): Participant {
    const participant = conference.participants.get(callSid);
    if (!participant) throw new ConferenceNotFound(`The requested resource /Conferences/${conference.sid}/Participants/${callSid} was not found`);
    participant.muted = flag(form, 'Muted', participant.muted);
    participant.hold = flag(form, 'Hold', participant.hold);
    if (form.has('HoldUrl')) participant.holdUrl = form.get('HoldUrl') ?? '';
    participant.coaching = flag(form, 'Coaching', participant.coaching);
    if (form.has('CallSidToCoach')) participant.callSidToCoach = form.get('CallSidToCoach') ?? '';
    participant.updated = at;
    return participant;
  }

  participantsOf(name: string): Participant[] {
    return [...(this.byName.get(name)?.participants.values() ?? [])];
  }
}

export function participantResource(account: string, conference: { sid: string }, p: Participant, status: 'queued' | 'connected') {
  return {
    account_sid: account,
    call_sid: p.callSid,
    label: p.label || null,
    call_sid_to_coach: p.callSidToCoach || null,
    coaching: p.coaching,
    conference_sid: conference.sid,
    date_created: p.created.toUTCString(),
    date_updated: p.updated.toUTCString(),
    end_conference_on_exit: p.endConferenceOnExit,
    muted: p.muted,
    hold: p.hold,
    start_conference_on_enter: p.startConferenceOnEnter,
    status,
    queue_time: '0',
    uri: `/2010-04-01/Accounts/${account}/Conferences/${conference.sid}/Participants/${p.callSid}.json`,
  };
}
