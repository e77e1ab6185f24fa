import { describe, expect, it } from 'vitest';
import { PromiseProgress, PromiseStep } from '#libs/proto';
import { forms, FormError, minorUnits, parseForm } from '../src/forms';
import { promiseView } from '../src/promise-routes';

describe('the promise form', () => {
  const form = { conversationId: 'conv-1', milestone: ' technician visit ', dueAt: '2026-12-04T15:00:00.000Z', cost: '120.50', currency: 'eur' };

  it('takes a milestone, a date and an optional cost with its currency', () => {
    expect(parseForm(forms.promise, form)).toEqual({ ...form, milestone: 'technician visit' });
    expect(parseForm(forms.promise, { ...form, cost: '', currency: '' })).toMatchObject({ cost: '', currency: '' });
    expect(parseForm(forms.promise, { conversationId: 'conv-1', kept: true })).toEqual({ conversationId: 'conv-1', kept: true });
  });

  it('names what is wrong', () => {
    expect(() => parseForm(forms.promise, { ...form, milestone: '' })).toThrow(/next step/);
    expect(() => parseForm(forms.promise, { ...form, milestone: 'x'.repeat(201) })).toThrow(/longer than 200/);
    expect(() => parseForm(forms.promise, { ...form, dueAt: 'next week' })).toThrow(/not a date/);
    expect(() => parseForm(forms.promise, { ...form, cost: '12,50' })).toThrow(/amount such as 120.50/);
    expect(() => parseForm(forms.promise, { ...form, currency: '' })).toThrow(/both the cost and its currency/);
    expect(() => parseForm(forms.promise, { ...form, currency: 'EURO' })).toThrow(/three-letter code/);
  });

  it('turns the amount into the currency’s minor units', () => {
    expect(minorUnits('120.50', 'EUR')).toBe(12050);
    expect(minorUnits('120.5', 'eur')).toBe(12050);
    expect(minorUnits('99', 'USD')).toBe(9900);
    expect(minorUnits('5000', 'JPY')).toBe(5000);
    expect(() => minorUnits('50.5', 'JPY')).toThrow(FormError);
    expect(minorUnits('', '')).toBe(0);
  });

  it('shows the promise with its cost in words and its state', () => {
    const step = PromiseStep.fromPartial({
      progress: PromiseProgress.PROMISE_PROGRESS_SET,
      milestone: 'refund paid',
      dueAt: new Date(Date.UTC(2026, 11, 4)),
      costMinor: 12050,
      costCurrency: 'EUR',
      ownerAgentId: 'ann',
      setBy: 'ann',
      version: 2,
    });
    expect(promiseView(step, 'warned')).toEqual({
      promise: { milestone: 'refund paid', dueAt: Date.UTC(2026, 11, 4), cost: '120.50 EUR', state: 'warned', ownerAgentId: 'ann', setBy: 'ann', version: 2 },
    });
    expect(promiseView({ ...step, costMinor: 0, costCurrency: '' }, 'open').promise!.cost).toBe('');
    expect(promiseView(undefined, '')).toEqual({ promise: null });
  });
});
