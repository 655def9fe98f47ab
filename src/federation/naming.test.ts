import { describe, expect, it } from 'vitest';
import { assignNames, NAME_PATTERN } from './naming.js';

describe('assignNames', () => {
  it('joins prefix and tool name with a double underscore', () => {
    expect(assignNames([{ prefix: 'github', original: 'create_issue' }])[0]).toEqual({
      prefix: 'github',
      original: 'create_issue',
      name: 'github__create_issue',
    });
  });

  it('replaces characters outside [A-Za-z0-9_-] and says so', () => {
    const [name] = assignNames([{ prefix: 'fs', original: 'read.file v2' }]);
    expect(name!.name).toBe('fs__read_file_v2');
    expect(name!.note).toMatch(/replaced/);
  });

  it('shortens names over 64 characters with a hash, keeping them distinct', () => {
    const long = 'x'.repeat(80);
    const names = assignNames([
      { prefix: 'p', original: long + 'a' },
      { prefix: 'p', original: long + 'b' },
    ]);
    for (const n of names) {
      expect(n.name.length).toBeLessThanOrEqual(64);
      expect(n.note).toMatch(/shortened/);
    }
    expect(names[0]!.name).not.toBe(names[1]!.name);
  });

  it('keeps the plain name for the original that needs no change when two collide', () => {
    const names = assignNames([
      { prefix: 't', original: 'odd.name' },
      { prefix: 't', original: 'odd_name' },
    ]);
    expect(names[1]!.name).toBe('t__odd_name');
    expect(names[0]!.name).toMatch(/^t__odd_name_[0-9a-f]{6}$/);
    expect(names[0]!.note).toMatch(/collision/);
  });

  it('resolves a collision across backends ("a" + "b__c" vs "a__b" + "c")', () => {
    const names = assignNames([
      { prefix: 'a', original: 'b__c' },
      { prefix: 'a__b', original: 'c' },
    ]);
    expect(new Set(names.map((n) => n.name)).size).toBe(2);
  });

  it('does not depend on the order of the requests', () => {
    const requests = [
      { prefix: 'a', original: 'x.y' },
      { prefix: 'a', original: 'x_y' },
      { prefix: 'b', original: 'z'.repeat(70) },
      { prefix: 'a', original: 'plain' },
    ];
    const forward = new Map(assignNames(requests).map((n) => [`${n.prefix}/${n.original}`, n.name]));
    const backward = new Map(assignNames([...requests].reverse()).map((n) => [`${n.prefix}/${n.original}`, n.name]));
    expect(backward).toEqual(forward);
  });

  it('always produces valid, unique names', () => {
    const alphabet = 'aZ09_-. /:é';
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const requests = Array.from({ length: 300 }, (_, i) => ({
      prefix: ['a', 'bb', 'c_c'][i % 3]!,
      original: Array.from(
        { length: 1 + Math.floor(random() * 90) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join(''),
    }));
    const unique = requests.filter(
      (r, i) => requests.findIndex((o) => o.prefix === r.prefix && o.original === r.original) === i,
    );
    const names = assignNames(unique).map((n) => n.name);
    for (const name of names) expect(name).toMatch(NAME_PATTERN);
    expect(new Set(names).size).toBe(names.length);
  });
});
