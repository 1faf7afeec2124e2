import { describe, expect, it } from 'vitest';
import { switchRefusal } from './access.js';
import { fileOperations, toQuery } from './operations.js';

describe('file operation parameters', () => {
  it('read the same from a JSON body and from the query the worker receives', () => {
    const fromBody = fileOperations.delete.params.parse({ path: '/srv/a b', recursive: true });
    const query = Object.fromEntries(new URLSearchParams(toQuery(fromBody)));
    expect(fileOperations.delete.params.parse(query)).toEqual(fromBody);
    expect(fromBody).toEqual({ path: '/srv/a b', recursive: true });
  });

  it('fill in listing defaults and bound the page size', () => {
    expect(fileOperations.list.params.parse({})).toEqual({
      offset: 0,
      limit: 200,
      sort: 'name',
      order: 'asc',
      hidden: false,
    });
    expect(fileOperations.list.params.safeParse({ limit: '5000' }).success).toBe(false);
  });

  it('take a mode only as octal digits', () => {
    expect(fileOperations.chmod.params.safeParse({ path: '/a', mode: '0755' }).success).toBe(true);
    expect(fileOperations.chmod.params.safeParse({ path: '/a', mode: '493' }).success).toBe(false);
  });
});

describe('server switches', () => {
  it('refuse everything when SFTP is off, and only changes when read-only', () => {
    const off = { sftpEnabled: false, sftpReadOnly: false };
    const readOnly = { sftpEnabled: true, sftpReadOnly: true };
    expect(switchRefusal(off, 'list')).toMatch(/turned off/);
    expect(switchRefusal(readOnly, 'list')).toBeUndefined();
    expect(switchRefusal(readOnly, 'download')).toBeUndefined();
    for (const op of ['upload', 'mkdir', 'rename', 'delete', 'chmod'] as const)
      expect(switchRefusal(readOnly, op)).toMatch(/read-only/);
  });
});
