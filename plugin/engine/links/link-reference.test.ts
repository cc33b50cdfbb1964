import { describe, expect, test } from 'bun:test';
import { parseImageReference } from '../../config/image-reference';
import { isLinkReference, linkReference, newLinkRunId } from './link-reference';

describe('link references', () => {
  test('a valid Docker reference under nx-buildkit-link/, whatever the target id', () => {
    for (const id of ['base:image', '@org/API:image', 'web--app:build.prod', '::']) {
      const ref = linkReference(id, 'abc123');
      expect(ref.startsWith('nx-buildkit-link/')).toBe(true);
      expect(ref.endsWith(':abc123')).toBe(true);
      expect(parseImageReference(ref)?.repository.startsWith('docker.io/nx-buildkit-link/')).toBe(true);
    }
    expect(linkReference('@org/API:image', 'r1')).toBe('nx-buildkit-link/org-api-image:r1');
  });

  test('run ids are fresh and make the names differ between runs', () => {
    const a = newLinkRunId();
    const b = newLinkRunId();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(linkReference('base:image', a)).not.toBe(linkReference('base:image', b));
  });

  test('recognised as links (and user names are not)', () => {
    expect(isLinkReference(linkReference('base:image', 'r1'))).toBe(true);
    expect(isLinkReference('docker.io/nx-buildkit-link/base-image:r1')).toBe(true);
    expect(isLinkReference('base:latest')).toBe(false);
    expect(isLinkReference('registry.example/nx-buildkit-link/x:1')).toBe(false);
  });

  test('an invalid run id is refused', () => {
    expect(() => linkReference('a:image', 'bad tag')).toThrow('invalid link run id');
  });
});
