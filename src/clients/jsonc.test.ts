import { describe, expect, it } from 'vitest';
import { JsoncSyntaxError, NotAnObjectError, parseJsonc, readObject, removeEntry, setEntry, toValue } from './jsonc.js';

const ours = { type: 'http', url: 'http://127.0.0.1:3590/mcp' };

describe('parseJsonc', () => {
  it('reads what JSON.parse reads, to the same value', () => {
    const text = '{"a": [1, -2.5e3, true, false, null], "b": {"c": "x\\n\\u00e9"}, "": 0}';
    expect(toValue(parseJsonc(text))).toEqual(JSON.parse(text));
  });

  it('accepts comments, trailing commas and a BOM', () => {
    const text = '\uFEFF{\n  // servers\n  "servers": { /* none yet */ "a": 1, },\n  "list": [1, 2,],\n}\n';
    expect(toValue(parseJsonc(text))).toEqual({ servers: { a: 1 }, list: [1, 2] });
  });

  it('keeps the last of duplicate keys, like JSON.parse', () => {
    expect(toValue(parseJsonc('{"a": 1, "a": 2}'))).toEqual({ a: 2 });
  });

  it('treats a "__proto__" key as data', () => {
    const value = toValue(parseJsonc('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": 1', /line 1, column 8: expected "," or "}", found end of file/],
    ["{'a': 1}", /line 1, column 2: expected a property name in double quotes/],
    ['{\n  a: 1\n}', /line 2, column 3: expected a property name/],
    ['{"a": NaN}', /unexpected "N"/],
    ['{"a": 1} x', /after the end of the document/],
    ['{"a": "tab\there"}', /invalid string/],
    ['{"a": 1 /* open', /unterminated/],
  ])('refuses %j with line and column', (text, message) => {
    expect(() => parseJsonc(text)).toThrow(JsoncSyntaxError);
    expect(() => parseJsonc(text)).toThrow(message);
  });
});

describe('setEntry / removeEntry', () => {
  const original =
    '{\n' +
    '  "theme": "dark",\n' +
    '  "mcpServers": {\n' +
    '    "memory": {\n' +
    '      "command": "npx",\n' +
    '      "args": ["-y", "@modelcontextprotocol/server-memory"]\n' +
    '    }\n' +
    '  },\n' +
    '  "zoom": 1.25\n' +
    '}\n';

  it('adds our entry after the others, indented like them, leaving every other byte as it was', () => {
    const text = setEntry(original, ['mcpServers'], 'cortex-gateway', ours);
    expect(text).toBe(
      original.replace(
        '      "args": ["-y", "@modelcontextprotocol/server-memory"]\n    }\n',
        '      "args": ["-y", "@modelcontextprotocol/server-memory"]\n    },\n' +
          '    "cortex-gateway": {\n      "type": "http",\n      "url": "http://127.0.0.1:3590/mcp"\n    }\n',
      ),
    );
  });

  it('removing the entry again gives back the original bytes', () => {
    const text = setEntry(original, ['mcpServers'], 'cortex-gateway', ours);
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe(original);
  });

  it('setting the same entry twice changes nothing the second time', () => {
    const once = setEntry(original, ['mcpServers'], 'cortex-gateway', ours);
    expect(setEntry(once, ['mcpServers'], 'cortex-gateway', ours)).toBe(once);
  });

  it('replaces an entry pointing elsewhere in place', () => {
    const old = setEntry(original, ['mcpServers'], 'cortex-gateway', { ...ours, url: 'http://127.0.0.1:1/mcp' });
    const text = setEntry(old, ['mcpServers'], 'cortex-gateway', ours);
    expect(text).toBe(setEntry(original, ['mcpServers'], 'cortex-gateway', ours));
  });

  it('creates the servers object when the file has none', () => {
    const text = setEntry('{\n  "theme": "dark"\n}\n', ['mcpServers'], 'cortex-gateway', ours);
    expect(JSON.parse(text)).toEqual({ theme: 'dark', mcpServers: { 'cortex-gateway': ours } });
    expect(text).toContain('\n  "mcpServers": {\n    "cortex-gateway": {\n      "type": "http"');
  });

  it('writes a fresh file for empty text', () => {
    expect(setEntry('', ['servers'], 'cortex-gateway', ours)).toBe(
      JSON.stringify({ servers: { 'cortex-gateway': ours } }, null, 2) + '\n',
    );
  });

  it('fills an empty servers object and empties it again', () => {
    const empty = '{\n  "mcpServers": {}\n}\n';
    const text = setEntry(empty, ['mcpServers'], 'cortex-gateway', ours);
    expect(JSON.parse(text)).toEqual({ mcpServers: { 'cortex-gateway': ours } });
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe(empty);
  });

  it('keeps comments and a trailing-comma style (JSONC)', () => {
    const jsonc =
      '// VS Code user MCP servers\n{\n\t"servers": {\n\t\t"git": { "type": "stdio", "command": "git-mcp" }, // mine\n\t},\n}\n';
    const text = setEntry(jsonc, ['servers'], 'cortex-gateway', ours);
    expect(text).toBe(
      '// VS Code user MCP servers\n{\n\t"servers": {\n\t\t"git": { "type": "stdio", "command": "git-mcp" }, // mine\n' +
        '\t\t"cortex-gateway": {\n\t\t\t"type": "http",\n\t\t\t"url": "http://127.0.0.1:3590/mcp"\n\t\t},\n\t},\n}\n',
    );
    expect(removeEntry(text, ['servers'], 'cortex-gateway')).toBe(jsonc);
  });

  it('keeps a block comment at the end of the last member’s line', () => {
    const jsonc = '{\n  "servers": {\n    "git": { "command": "git-mcp" }, /* local */\n  },\n}\n';
    const text = setEntry(jsonc, ['servers'], 'cortex-gateway', ours);
    expect(text).toContain('"git": { "command": "git-mcp" }, /* local */\n    "cortex-gateway": {');
    expect(removeEntry(text, ['servers'], 'cortex-gateway')).toBe(jsonc);
  });

  it('inserts after a line comment following the last member without a comma', () => {
    const jsonc = '{\n  "servers": {\n    "git": 1 // mine\n  }\n}\n';
    const text = setEntry(jsonc, ['servers'], 'cortex-gateway', ours);
    expect(text).toContain('"git": 1, // mine\n    "cortex-gateway": {');
    expect(removeEntry(text, ['servers'], 'cortex-gateway')).toBe(jsonc);
  });

  it('keeps CRLF line endings', () => {
    const crlf = original.replace(/\n/g, '\r\n');
    const text = setEntry(crlf, ['mcpServers'], 'cortex-gateway', ours);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe(crlf);
  });

  it('adds to a one-line object on the same line', () => {
    const text = setEntry('{"mcpServers": {"a": {"url": "x"}}}', ['mcpServers'], 'cortex-gateway', ours);
    expect(text).toBe(`{"mcpServers": {"a": {"url": "x"}, "cortex-gateway": ${JSON.stringify(ours)}}}`);
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe('{"mcpServers": {"a": {"url": "x"}}}');
  });

  it('removes an entry in the middle with its comma', () => {
    const text = '{\n  "mcpServers": {\n    "a": 1,\n    "cortex-gateway": {},\n    "b": 2\n  }\n}\n';
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe(
      '{\n  "mcpServers": {\n    "a": 1,\n    "b": 2\n  }\n}\n',
    );
  });

  it('removes duplicates of our entry too', () => {
    const text = '{"mcpServers": {"cortex-gateway": 1, "a": 2, "cortex-gateway": 3}}';
    expect(removeEntry(text, ['mcpServers'], 'cortex-gateway')).toBe('{"mcpServers": {"a": 2}}');
  });

  it('leaves text without the entry unchanged', () => {
    expect(removeEntry(original, ['mcpServers'], 'cortex-gateway')).toBe(original);
    expect(removeEntry('{"x": 1}', ['mcpServers'], 'cortex-gateway')).toBe('{"x": 1}');
  });

  it('refuses a servers value that is not an object, naming it', () => {
    expect(() => setEntry('{"mcpServers": []}', ['mcpServers'], 'cortex-gateway', ours)).toThrow(NotAnObjectError);
    expect(() => setEntry('{"mcpServers": []}', ['mcpServers'], 'cortex-gateway', ours)).toThrow('"mcpServers"');
    expect(() => setEntry('[1]', ['mcpServers'], 'cortex-gateway', ours)).toThrow('(top level)');
  });

  it('reads the servers object as plain values', () => {
    expect(readObject(original, ['mcpServers'])).toEqual(JSON.parse(original).mcpServers);
    expect(readObject('{}', ['mcpServers'])).toBeUndefined();
  });
});

describe('replacing our entry', () => {
  const ours2 = { command: '/usr/bin/npx', args: ['-y', 'mcp-remote', 'http://127.0.0.1:3591/mcp'] };

  it('changes only its value, in the file’s indentation, comments around it kept', () => {
    const text =
      '{\n\t// mine\n\t"servers": {\n\t\t"cortex-gateway": { "url": "old" }, // ours\n\t\t"git": 1 /* theirs */\n\t}\n}\n';
    const multi = setEntry(
      text.replace('{ "url": "old" }', '{\n\t\t\t"url": "old"\n\t\t}'),
      ['servers'],
      'cortex-gateway',
      ours2,
    );
    expect(multi).toBe(
      '{\n\t// mine\n\t"servers": {\n\t\t"cortex-gateway": {\n\t\t\t"command": "/usr/bin/npx",\n\t\t\t"args": [\n' +
        '\t\t\t\t"-y",\n\t\t\t\t"mcp-remote",\n\t\t\t\t"http://127.0.0.1:3591/mcp"\n\t\t\t]\n\t\t}, // ours\n' +
        '\t\t"git": 1 /* theirs */\n\t}\n}\n',
    );
  });

  it('keeps a one-line entry on its line', () => {
    const text = '{"servers": {"cortex-gateway": {"url": "old"}, "git": 1}}';
    expect(setEntry(text, ['servers'], 'cortex-gateway', ours)).toBe(
      `{"servers": {"cortex-gateway": ${JSON.stringify(ours)}, "git": 1}}`,
    );
  });

  it('replaces the last of duplicate keys (the one JSON.parse keeps), after a BOM too', () => {
    const text = '\uFEFF{\n  "servers": {\n    "cortex-gateway": 1,\n    "cortex-gateway": 2\n  }\n}\n';
    const changed = setEntry(text, ['servers'], 'cortex-gateway', ours);
    expect(changed.startsWith('\uFEFF{\n  "servers": {\n    "cortex-gateway": 1,\n    "cortex-gateway": {\n')).toBe(
      true,
    );
    expect(readObject(changed, ['servers'])).toEqual({ 'cortex-gateway': ours });
  });
});
