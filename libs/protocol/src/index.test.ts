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
