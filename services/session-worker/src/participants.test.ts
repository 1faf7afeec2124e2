import { describe, expect, it } from 'vitest';
import { Participants } from './participants.js';

const owner = { userId: 'u-owner', username: 'olga' };
const attach = (
  attachId: string,
  userId: string,
  role: 'owner' | 'control' | 'view',
  via = 'share:s1',
) => ({
  attachId,
  userId,
  username: userId.replace('u-', ''),
  role,
  via,
});

describe('Participants', () => {
  it('lets the owner and controllers write, and viewers only watch', () => {
    const p = new Participants(owner);
    p.attach(attach('a1', 'u-owner', 'owner', 'owner'), 0);
    p.attach(attach('a2', 'u-carl', 'control'), 0);
    p.attach(attach('a3', 'u-vera', 'view'), 0);
    expect([
      p.canWrite('u-owner'),
      p.canWrite('u-carl'),
      p.canWrite('u-vera'),
      p.canWrite('u-stranger'),
    ]).toEqual([true, true, false, false]);
  });

  it('never lets a gateway make someone else the owner', () => {
    const p = new Participants(owner);
    p.attach(attach('a1', 'u-mallory', 'owner'), 0);
    expect(p.roleOf('u-mallory')).toBe('view');
  });

  it('keeps a role granted live across a reconnect', () => {
    const p = new Participants(owner);
    p.attach(attach('a1', 'u-vera', 'view'), 0);
    expect(p.setRole('u-vera', 'control')).toBe(true);
    p.detach('a1');
    p.attach(attach('a2', 'u-vera', 'view'), 0);
    expect(p.roleOf('u-vera')).toBe('control');
    expect(p.setRole('u-owner', 'view')).toBe(false);
  });

  it('counts only controllers in the lag that pauses the session', () => {
    const p = new Participants(owner);
    p.attach(attach('a1', 'u-owner', 'owner', 'owner'), 0);
    p.attach(attach('a2', 'u-vera', 'view'), 0);
    p.ack('a1', 900);
    expect(p.controllerLag(1_000)).toBe(100);
    p.ack('a1', 500); // an old ack arriving late changes nothing
    expect(p.controllerLag(1_000)).toBe(100);
    p.setRole('u-vera', 'control');
    expect(p.controllerLag(1_000)).toBe(1_000);
    p.resetAck('a2', 1_000);
    expect(p.controllerLag(1_000)).toBe(100);
  });

  it('expires sockets whose gateway stopped sending heartbeats', () => {
    let now = 0;
    const p = new Participants(owner, () => now);
    p.attach(attach('a1', 'u-owner', 'owner', 'owner'), 0);
    p.attach(attach('a2', 'u-vera', 'view'), 0);
    now = 10_000;
    p.heartbeat(['a1']);
    now = 20_000;
    expect(p.expire(15_000)).toEqual(['a2']);
    expect(p.attachedCount).toBe(1);
  });

  it('revokes everyone who came through a share, and returns their sockets', () => {
    const p = new Participants(owner);
    p.attach(attach('a1', 'u-owner', 'owner', 'owner'), 0);
    p.attach(attach('a2', 'u-vera', 'view', 'share:s1'), 0);
    p.attach(attach('a3', 'u-vera', 'view', 'share:s1'), 0);
    p.attach(attach('a4', 'u-ivan', 'control', 'invite:i1'), 0);
    expect(p.revoke('share:s1').sort()).toEqual(['a2', 'a3']);
    expect(p.canWrite('u-vera')).toBe(false);
    expect(p.roleOf('u-vera')).toBeUndefined();
    expect(p.list().map((m) => m.username)).toEqual(['olga', 'ivan']);
  });

  it('lists the owner even when detached, and others only while attached', () => {
    const p = new Participants(owner);
    p.attach(attach('a2', 'u-vera', 'view'), 0);
    p.attach(attach('a3', 'u-vera', 'view'), 0);
    expect(p.list()).toEqual([
      { userId: 'u-owner', username: 'olga', role: 'owner', attachments: 0 },
      { userId: 'u-vera', username: 'vera', role: 'view', attachments: 2 },
    ]);
    p.detach('a2');
    p.detach('a3');
    expect(p.list().map((m) => m.username)).toEqual(['olga']);
  });
});
