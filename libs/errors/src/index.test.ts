import { describe, expect, it } from 'vitest';
import { AppError, toClientError } from './index.js';

describe('toClientError', () => {
  it('shows an exposed error with its code, status and details', () => {
    const err = new AppError('validation_failed', 'host: must not begin with "-"', {
      field: 'host',
    });
    expect(toClientError(err)).toEqual({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          message: 'host: must not begin with "-"',
          details: { field: 'host' },
        },
      },
    });
  });

  it('hides the message of an unexpected error', () => {
    const out = toClientError(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    expect(out.status).toBe(500);
    expect(JSON.stringify(out.body)).not.toContain('hunter2');
    expect(out.body.error.code).toBe('internal');
  });

  it('hides the message of a non-exposed catalogue error', () => {
    const out = toClientError(new AppError('internal', 'db row 42 corrupt'));
    expect(out.body.error.message).toBe('Internal error');
  });
});
