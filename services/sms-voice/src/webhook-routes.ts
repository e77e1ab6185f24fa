// What every webhook route is given once its request is signed, and the checks its fields need.
import type { SmsVoiceConfig } from './config';
import { toE164 } from './sms';
import type { ContactSpool } from './spool';
import type { SmsVoiceStore } from './store';
import type { WaitEstimates } from './wait-estimates';
import { MissingFieldError } from './webhook-errors';
import type { WebhookParams } from './webhook-form';

/** A route answers a signed webhook's fields with the TwiML (or nothing) Twilio gets back. */
export type Route = (ctx: RouteContext, params: WebhookParams, query: URLSearchParams) => Promise<string>;

export interface RouteContext {
  config: SmsVoiceConfig;
  store: SmsVoiceStore;
  /** Where contacts and conversation events go: Kafka, or the spool while Kafka does not acknowledge. */
  contacts: Pick<ContactSpool, 'deliver' | 'deliverEvent'>;
  waitEstimates: WaitEstimates;
  /** A callback's customer picked up: their agent is dialled into the conference. */
  bridgeCallback(callSid: string): Promise<void>;
  now: () => Date;
  /** PUBLIC_BASE_URL without its trailing slash: where Twilio reaches us. */
  base: string;
  /** A Twilio sid field, or MissingFieldError. */
  required(params: WebhookParams, name: string): string;
  /** A phone number field in E.164, or InvalidNumberError. */
  phone(value: string | undefined, field: string): string;
}

export function routeContext(deps: Omit<RouteContext, 'required' | 'phone' | 'base'>): RouteContext {
  return {
    ...deps,
    base: deps.config.PUBLIC_BASE_URL.replace(/\/$/, ''),
    required,
    phone: (value, field) => toE164(value ?? '', field, deps.config.DEFAULT_PHONE_COUNTRY),
  };
}

function required(params: WebhookParams, name: string): string {
  const value = params[name];
  if (!value || !/^[A-Za-z0-9]{10,64}$/.test(value)) throw new MissingFieldError(name);
  return value;
}
