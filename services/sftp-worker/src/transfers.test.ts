import { describe, expect, it } from 'vitest';
import { AppError } from '@sallyport/errors';
import { TransferSlots } from './transfers.js';

describe('TransferSlots', () => {
  it('refuses a user over the limit with a 429, and frees a slot once', () => {
    const slots = new TransferSlots(2);
    const first = slots.take('u1');
    slots.take('u1');
    expect(() => slots.take('u1')).toThrow(AppError);
    expect(() => slots.take('u1')).toThrow(/already have 2 transfers running/);
    slots.take('u2'); // other users are not affected
    first();
    first(); // giving back twice frees one slot only
    slots.take('u1');
    expect(() => slots.take('u1')).toThrow(/already have 2/);
  });
});
