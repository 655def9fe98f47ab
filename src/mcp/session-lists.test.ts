import { describe, expect, it } from 'vitest';
import { paginate } from './session-lists.js';

describe('paginate', () => {
  const all = Array.from({ length: 7 }, (_, i) => i);

  it('returns everything when the page size is 0', () => {
    expect(paginate(all, undefined, 0)).toEqual({ items: all });
  });

  it('walks the list to the end with opaque cursors', () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = paginate(all, cursor, 3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('refuses a cursor it did not issue with invalid params', () => {
    expect(() => paginate(all, 'garbage', 3)).toThrow(expect.objectContaining({ code: -32602 }));
  });
});
