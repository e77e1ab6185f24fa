// Everything routing decides by, with the defaults used when a deployment sets nothing.
import type { ChannelName, CustomerFlagName } from '#libs/contact';
import { RiskLevel } from '#libs/proto';
import type { CalendarSet } from '#libs/calendars';
import type { QuietHours } from './quiet-hours';

/** The order routing lists channels in, as in an agent's published load. */
export const CHANNELS: ChannelName[] = ['voice', 'chat', 'sms', 'email', 'api', 'whatsapp'];

export interface ClassificationRule {
  id: string;
  /** Every condition given must hold. */
  when: {
    /** Any of these words or phrases (case-insensitive) in the subject or text. */
    keywords?: string[];
    /** A regular expression (case-insensitive) over subject and text. */
    pattern?: string;
    languages?: string[];
    channels?: ChannelName[];
    /** Any of these customer flags. */
    customerFlags?: CustomerFlagName[];
  };
  then: {
    skill?: string;
    /** Extra priority points. */
    priority?: number;
    complexity?: number;
    risk?: RiskLevel;
    /** Lowest skill level asked for at the first skilled step. */
    minLevel?: number;
  };
}

export interface RoutingPolicy {
  defaultSkill: string;
  rules: ClassificationRule[];
  /** High-risk conversations go straight to the experts' queue. */
  highRiskToExperts: boolean;
  /** Complexity (0-10) at or above which a conversation goes to the experts automatically. */
  complexityThreshold: number;
  /** A new conversation on the same subject within this window escalates automatically. */
  repeatContactWindowMs: number;
  /** The last agent who served the customer is a target for this long. */
  lastAgentWindowMs: number;
  /** How long each step of the target list waits before the target widens. */
  stepTimeoutMs: { accountManager: number; lastAgent: number; skilled: number; anyLevel: number };
  offerTimeoutMs: number;
  /** Missed offers in a row after which an agent is set away. */
  maxMissedOffers: number;
  wrapUpMs: number;
  capacityDefaults: Record<ChannelName, number>;
  totalCapacityDefault: number;
  slaTargetMs: Record<ChannelName, number>;
  slaWarningShare: number;
  /** Target service level used for staffing (share answered within the SLA target). */
  serviceLevelTarget: number;
  /** Priority points. One point is worth `ageingStepMs` of waiting. */
  channelPoints: Record<ChannelName, number>;
  customerPoints: { institutional: number; vip: number; regular: number };
  ageingStepMs: number;
  /** Default handle time per channel until real ones are measured. */
  defaultHandleMs: Record<ChannelName, number>;
  /** How far back arrivals are counted for staffing. */
  arrivalWindowMs: number;
  /** Opening hours per queue pattern (calendars.ts); a queue without one is always open. */
  calendars: CalendarSet;
  /** The deployment named in outbound message ids (outbox.ts); empty for the default one. */
  messageScope?: string;
  /** When the company does not start SMS conversations (quiet-hours.ts); none when absent. */
  smsQuietHours?: QuietHours;
  /** Between an unanswered callback attempt and the next one. */
  callbackRetryIntervalMs: number;
  /** Attempts to call a customer back before they are told by SMS and the callback is given up. */
  callbackMaxAttempts: number;
  /** How long before a promise's deadline its owner and the supervisors are warned. */
  promiseWarningLeadMs: number;
  /** Supervisors (agent ids on the desk) warned with the owner before a promise slips, and when it does. */
  promiseSupervisors: string[];
}

export const DEFAULT_POLICY: RoutingPolicy = {
  defaultSkill: 'general',
  rules: [
    {
      id: 'legal-threat',
      when: { keywords: ['lawyer', 'attorney', 'lawsuit', 'sue you', 'legal action', 'avocat'] },
      then: { risk: RiskLevel.RISK_LEVEL_HIGH, skill: 'complaints', priority: 10 },
    },
    {
      id: 'safety',
      when: { keywords: ['injury', 'injured', 'fire', 'smoke', 'danger', 'unsafe'] },
      then: { risk: RiskLevel.RISK_LEVEL_HIGH, skill: 'safety', priority: 20 },
    },
    { id: 'billing', when: { keywords: ['invoice', 'bill', 'billing', 'refund', 'charge', 'payment', 'facture'] }, then: { skill: 'billing' } },
    { id: 'technical', when: { keywords: ['error', 'broken', 'not working', 'outage', 'crash', 'bug'] }, then: { skill: 'technical', complexity: 5 } },
    { id: 'cancellation', when: { keywords: ['cancel', 'cancellation', 'terminate'] }, then: { skill: 'retention', risk: RiskLevel.RISK_LEVEL_MEDIUM } },
  ],
  highRiskToExperts: true,
  complexityThreshold: 8,
  repeatContactWindowMs: 7 * 24 * 3600_000,
  lastAgentWindowMs: 14 * 24 * 3600_000,
  stepTimeoutMs: { accountManager: 20_000, lastAgent: 15_000, skilled: 30_000, anyLevel: 30_000 },
  offerTimeoutMs: 20_000,
  maxMissedOffers: 3,
  wrapUpMs: 0,
  // Contacts submitted over the API are written and answered later, as mail is.
  capacityDefaults: { voice: 1, chat: 3, sms: 5, email: 5, api: 5, whatsapp: 5 },
  totalCapacityDefault: 5,
  slaTargetMs: { voice: 30_000, chat: 60_000, sms: 15 * 60_000, email: 4 * 3600_000, api: 4 * 3600_000, whatsapp: 15 * 60_000 },
  slaWarningShare: 0.8,
  serviceLevelTarget: 0.8,
  channelPoints: { voice: 40, chat: 30, sms: 10, email: 0, api: 0, whatsapp: 10 },
  // Flagged customers (50+) are ahead of unflagged ones on any channel (40 at most).
  customerPoints: { institutional: 70, vip: 60, regular: 50 },
  ageingStepMs: 15_000,
  defaultHandleMs: { voice: 300_000, chat: 600_000, sms: 900_000, email: 1_200_000, api: 1_200_000, whatsapp: 900_000 },
  arrivalWindowMs: 30 * 60_000,
  calendars: {},
  callbackRetryIntervalMs: 10 * 60_000,
  callbackMaxAttempts: 3,
  promiseWarningLeadMs: 24 * 3600_000,
  promiseSupervisors: [],
};

export function policyWith(overrides: Partial<RoutingPolicy>): RoutingPolicy {
  return { ...DEFAULT_POLICY, ...overrides };
}
