import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './index.js';

describe('parseClientMessage', () => {
  it('accepts a resize within limits', () => {
    expect(parseClientMessage('{"type":"resize","cols":120,"rows":40}')).toEqual({
      ok: true,
      message: { type: 'resize', cols: 120, rows: 40 },
    });
  });

  it.each([
    ['{"type":"resize","cols":0,"rows":0}'],
    ['{"type":"resize","cols":100000,"rows":100000}'],
    ['{"type":"resize","cols":80.5,"rows":24}'],
    ['{"type":"resize","cols":"80","rows":24}'],
  ])('refuses the resize %s', (frame) => {
    expect(parseClientMessage(frame)).toMatchObject({ ok: false, code: 'invalid_resize' });
  });

  it('accepts acks and control messages', () => {
    const id = '7d0f4a5e-2f7c-4a51-9b8e-1f2d3c4b5a69';
    for (const frame of [
      { type: 'ack', bytes: 1_048_576 },
      { type: 'control-request' },
      { type: 'control-grant', userId: id },
      { type: 'control-deny', userId: id },
      { type: 'control-revoke', userId: id },
    ]) {
      expect(parseClientMessage(JSON.stringify(frame))).toEqual({ ok: true, message: frame });
    }
  });

  it('refuses a negative ack and a grant without a user id', () => {
    expect(parseClientMessage('{"type":"ack","bytes":-1}')).toMatchObject({
      ok: false,
      code: 'bad_message',
    });
    expect(parseClientMessage('{"type":"control-grant","userId":"bob"}')).toMatchObject({
      ok: false,
      code: 'bad_message',
    });
  });

  it('refuses text that is not JSON', () => {
    expect(parseClientMessage('{not json')).toEqual({
      ok: false,
      code: 'bad_message',
      message: 'control message is not valid JSON',
    });
  });

  it('refuses an unknown message type and extra fields', () => {
    expect(parseClientMessage('{"type":"exec","cmd":"rm -rf /"}')).toMatchObject({
      ok: false,
      code: 'bad_message',
    });
    expect(parseClientMessage('{"type":"close","force":true}')).toMatchObject({
      ok: false,
      code: 'bad_message',
    });
    expect(parseClientMessage('[]')).toMatchObject({ ok: false, code: 'bad_message' });
  });
});
