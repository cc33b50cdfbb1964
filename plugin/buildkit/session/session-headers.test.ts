import { describe, expect, test } from 'bun:test';
import { FileSyncProvider } from '../attachables/filesync/file-sync-provider';
import { Session } from './session';
import { sessionHeaderFields } from './session-headers';

describe('session headers', () => {
  test('one field per advertised method, health included, after uuid/name/sharedkey', () => {
    const session = new Session({ sharedKey: 'ctx:abc', name: 'demo', attachables: [new FileSyncProvider({})] });
    expect(sessionHeaderFields(session.headers)).toEqual([
      ['X-Docker-Expose-Session-Uuid', session.id],
      ['X-Docker-Expose-Session-Name', 'demo'],
      ['X-Docker-Expose-Session-Sharedkey', 'ctx:abc'],
      ['X-Docker-Expose-Session-Grpc-Method', '/grpc.health.v1.Health/Check'],
      ['X-Docker-Expose-Session-Grpc-Method', '/grpc.health.v1.Health/Watch'],
      ['X-Docker-Expose-Session-Grpc-Method', '/moby.filesync.v1.FileSync/DiffCopy'],
    ]);
  });
  test('session IDs are 25 base-36 characters, distinct, without ":"', () => {
    const ids = new Set(Array.from({ length: 200 }, () => new Session().id));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{25}$/);
  });
  test('a session never prints its ID', () => {
    const session = new Session();
    const rendered = [String(session), JSON.stringify({ session }), Bun.inspect(session)].join(' ');
    expect(rendered).not.toContain(session.id);
    expect(rendered).toContain('<redacted>');
  });
  test('a non-ASCII shared key is refused (older daemons corrupt it)', () => {
    expect(() => new Session({ sharedKey: 'contexte-été' })).toThrow('printable ASCII');
  });
});
