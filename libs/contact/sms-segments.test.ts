import { describe, expect, it } from 'vitest';
import { countSegments } from './sms-segments';

describe('SMS segments', () => {
  it('counts GSM-7 and UCS-2 segments as carriers do', () => {
    expect(countSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(countSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(countSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(countSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(countSegments('é'.repeat(70))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(countSegments('ç'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(countSegments('🚨'.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(countSegments('🚨'.repeat(36))).toEqual({ encoding: 'UCS-2', segments: 2 });
  });
});
