// From the SPF, DKIM and DMARC results of a mail to one verdict on its From address. No I/O:
// the results come from mailauth (src/sender-check.ts), this module only judges them.
import { SenderVerdict, type SenderAuthentication } from '#libs/proto';

/** The parts of mailauth's authenticate() result this module reads. */
export interface AuthResultsLike {
  spf: { domain: string; status: { result: string } } | false;
  dkim: {
    /** Every address of every From header. */
    headerFrom: string[];
    /** From header fields, where the library counts them. */
    fromFields?: number;
    results: { signingDomain?: string; status: { result: string; aligned?: string | false } }[];
  };
  dmarc: { policy?: string; p?: string; status: { result: string; header?: { from?: string } }; alignment?: unknown } | false;
}

const TEMPORARY = 'temperror';

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The same domain, or one a subdomain of the other: a conservative relaxed alignment for SPF without DMARC. */
export function related(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return !!x && !!y && (x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`));
}

/**
 * The verdict on `senderAddress`, the address the contact is recorded under (the From, or the
 * envelope sender when the mail has no From). It is authenticated when an SPF or DKIM pass is
 * for its domain: what DMARC calls a pass, and the same test for domains without DMARC.
 */
export function judgeSender(senderAddress: string, results: AuthResultsLike): SenderAuthentication {
  const fromDomain = domainOf(senderAddress);
  const spf = results.spf ? results.spf.status.result : 'none';
  const spfDomain = results.spf ? results.spf.domain.toLowerCase() : '';
  const best = bestSignature(results.dkim.results);
  const dkim = best?.status.result ?? 'none';
  const dmarc = results.dmarc ? results.dmarc.status.result : 'none';
  const hasDmarcRecord = !!results.dmarc && (dmarc === 'pass' || dmarc === 'fail');
  const base = {
    spf,
    spfDomain,
    dkim,
    dkimDomain: best?.signingDomain?.toLowerCase() ?? '',
    dmarc,
    dmarcPolicy: hasDmarcRecord && results.dmarc ? (results.dmarc.policy ?? results.dmarc.p ?? '') : '',
    fromDomain,
  };

  // More than one author: DMARC cannot say whose mail it is, and forgers use exactly that.
  const authors = results.dkim.headerFrom;
  if ((results.dkim.fromFields ?? 0) > 1 || authors.length > 1)
    return { ...base, dmarc: dmarc === 'none' ? 'permerror' : dmarc, fromAligned: false, verdict: SenderVerdict.SENDER_VERDICT_FAIL };
  // The checks judged the header From; it must be the address the contact carries.
  const sameAuthor = authors.length === 0 || domainOf(authors[0]!) === fromDomain;

  const spfAligned = spf === 'pass' && related(spfDomain, fromDomain);
  const dkimAligned = authors.length === 1 && results.dkim.results.some((r) => r.status.result === 'pass' && !!r.status.aligned);
  const fromAligned = sameAuthor && (hasDmarcRecord ? dmarc === 'pass' : spfAligned || dkimAligned);
  if (fromAligned) return { ...base, fromAligned, verdict: SenderVerdict.SENDER_VERDICT_PASS };

  const spfFailsForFrom = spf === 'fail' && related(spfDomain, fromDomain);
  if (dmarc === 'fail' || (!hasDmarcRecord && spfFailsForFrom)) return { ...base, fromAligned, verdict: SenderVerdict.SENDER_VERDICT_FAIL };
  if ([spf, dkim, dmarc].includes(TEMPORARY) || results.dkim.results.some((r) => r.status.result === TEMPORARY)) {
    return { ...base, fromAligned, verdict: SenderVerdict.SENDER_VERDICT_TEMPORARY };
  }
  return { ...base, fromAligned, verdict: SenderVerdict.SENDER_VERDICT_NONE };
}

/** What the check records when it could not run to its end (deadline, resolver failure). */
export function temporaryVerdict(senderAddress: string): SenderAuthentication {
  return {
    spf: TEMPORARY,
    spfDomain: '',
    dkim: TEMPORARY,
    dkimDomain: '',
    dmarc: TEMPORARY,
    dmarcPolicy: '',
    fromDomain: domainOf(senderAddress),
    fromAligned: false,
    verdict: SenderVerdict.SENDER_VERDICT_TEMPORARY,
  };
}

type Signature = AuthResultsLike['dkim']['results'][number];

/** An aligned pass first, then any pass, then the first signature's result. */
function bestSignature(rows: Signature[]): Signature | undefined {
  return rows.find((r) => r.status.result === 'pass' && r.status.aligned) ?? rows.find((r) => r.status.result === 'pass') ?? rows[0];
}
