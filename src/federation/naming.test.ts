import { describe, expect, it } from 'vitest';
import { assignNames, NAME_PATTERN, namespaceOf } from './naming.js';

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

  it('keeps a tool named "b__c" inside its own backend\'s namespace', () => {
    const [name] = assignNames([{ prefix: 'a', original: 'b__c' }]);
    expect(name!.name).toBe('a__b__c');
    expect(namespaceOf(name!.name)).toBe('a');
  });

  it('cannot let backend "a" with tool "_b" take the name of backend "a_" with tool "b"', () => {
    const names = assignNames([
      { prefix: 'a', original: '_b' },
      { prefix: 'a_', original: 'b' },
    ]);
    expect(names[1]!.name).toBe('a___b');
    expect(names[0]!.name).toBe('a__-b');
    expect(names[0]!.note).toMatch(/leading "_" replaced/);
    expect(names.map((n) => namespaceOf(n.name))).toEqual(['a', 'a_']);
  });

  it('keeps the prefix whole and adds a stable hash when shortening to 64 characters', () => {
    const prefix = 'p'.repeat(32);
    const original = 'verb_' + 'x'.repeat(100);
    const [first] = assignNames([{ prefix, original }]);
    expect(first!.name).toHaveLength(64);
    expect(first!.name.startsWith(`${prefix}__verb_`)).toBe(true);
    expect(first!.name).toMatch(/_[0-9a-f]{6}$/);
    expect(namespaceOf(first!.name)).toBe(prefix);
    expect(assignNames([{ prefix, original }])[0]!.name).toBe(first!.name);
  });

  it('keeps names distinct, each in its own namespace, when they collide after shortening', () => {
    const long = 'y'.repeat(60);
    const names = assignNames([
      { prefix: 'a', original: long + '1' },
      { prefix: 'a', original: long + '2' },
      { prefix: 'a_', original: long + '1' },
      { prefix: 'a_', original: '_' + long + '1' },
    ]);
    expect(new Set(names.map((n) => n.name)).size).toBe(4);
    expect(names.map((n) => namespaceOf(n.name))).toEqual(['a', 'a', 'a_', 'a_']);
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

  it("never lets one backend produce a name in another backend's namespace (adversarial tool names)", () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = (alphabet: string, max: number) =>
      Array.from(
        { length: 1 + Math.floor(random() * max) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    // Backend ids as the config allows them: no "__", but may start or end with "_".
    const prefixes = ['a', 'a_', '_', '_a', 'a_b', 'b', 'x'.repeat(32), 'x'.repeat(31) + '_'];
    const requests = Array.from({ length: 400 }, (_, i) => ({
      prefix: prefixes[i % prefixes.length]!,
      original: pick('_a_b-._ ', 70),
    }));
    const unique = requests.filter(
      (r, i) => requests.findIndex((o) => o.prefix === r.prefix && o.original === r.original) === i,
    );
    const names = assignNames(unique);
    for (const name of names) {
      expect(name.name).toMatch(NAME_PATTERN);
      expect(namespaceOf(name.name), name.name).toBe(name.prefix);
    }
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
  });
});

describe('namespaceOf', () => {
  it('reads the backend id of a federated name', () => {
    expect(namespaceOf('github__create_issue')).toBe('github');
    expect(namespaceOf('a___b')).toBe('a_');
    expect(namespaceOf('___b')).toBe('_');
  });
  it('answers undefined for a name no backend could have produced', () => {
    expect(namespaceOf('whoami')).toBeUndefined();
    expect(namespaceOf('__x')).toBeUndefined();
    expect(namespaceOf('a____b')).toBeUndefined();
  });
});
