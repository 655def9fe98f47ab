/**
 * A small tolerant JSON reader for other apps' config files, and edits that splice text.
 *
 * VS Code's mcp.json is JSONC (comments, trailing commas) and Gemini CLI strips comments too, so
 * `JSON.parse` would refuse files those apps accept. Re-serializing a parsed file would also drop the
 * user's comments and layout. So the parser keeps every value's offsets, and an edit replaces only
 * the characters of our one entry: everything else in the file stays byte for byte as it was.
 *
 * Accepted: JSON (RFC 8259) plus `//` and `/* *\/` comments, trailing commas and a leading BOM.
 * Anything else (single quotes, bare keys, NaN…) is an error with line and column.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface Span {
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

export interface ObjectNode extends Span {
  kind: 'object';
  members: Member[];
}
export interface ArrayNode extends Span {
  kind: 'array';
  items: Node[];
}
export interface ScalarNode extends Span {
  kind: 'scalar';
  value: null | boolean | number | string;
}
export type Node = ObjectNode | ArrayNode | ScalarNode;

export interface Member {
  key: string;
  keyStart: number;
  value: Node;
}

export class JsoncSyntaxError extends Error {
  override readonly name = 'JsoncSyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON strings exclude raw control characters (RFC 8259 §7); the class spells them out on purpose.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Parses JSONC text into a tree with offsets. The top level may be any value. */
export function parseJsonc(text: string): Node {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (message: string, at = pos): never => {
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new JsoncSyntaxError(message, line, column);
  };
  const describe = (at: number) => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));

  const skip = () => {
    for (;;) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') pos++;
      else if (c === '/' && text[pos + 1] === '/') {
        while (pos < text.length && text[pos] !== '\n') pos++;
      } else if (c === '/' && text[pos + 1] === '*') {
        const close = text.indexOf('*/', pos + 2);
        if (close < 0) fail('unterminated /* comment');
        pos = close + 2;
      } else return;
    }
  };

  const string = (): { value: string; start: number } => {
    STRING.lastIndex = pos;
    const match = STRING.exec(text);
    if (!match) fail(text[pos] === '"' ? 'invalid string (bad escape or control character)' : 'expected a string');
    const start = pos;
    pos += match![0].length;
    return { value: JSON.parse(match![0]) as string, start };
  };

  const value = (depth: number): Node => {
    if (depth > 256) fail('nested too deeply');
    skip();
    const start = pos;
    const c = text[pos];
    if (c === '{') {
      pos++;
      const members: Member[] = [];
      for (;;) {
        skip();
        if (text[pos] === '}') break;
        if (text[pos] !== '"') fail(`expected a property name in double quotes, found ${describe(pos)}`);
        const key = string();
        skip();
        if (text[pos] !== ':') fail(`expected ":" after the property name, found ${describe(pos)}`);
        pos++;
        members.push({ key: key.value, keyStart: key.start, value: value(depth + 1) });
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail(`expected "," or "}", found ${describe(pos)}`);
      }
      pos++;
      return { kind: 'object', start, end: pos, members };
    }
    if (c === '[') {
      pos++;
      const items: Node[] = [];
      for (;;) {
        skip();
        if (text[pos] === ']') break;
        items.push(value(depth + 1));
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail(`expected "," or "]", found ${describe(pos)}`);
      }
      pos++;
      return { kind: 'array', start, end: pos, items };
    }
    if (c === '"') {
      const parsed = string();
      return { kind: 'scalar', start, end: pos, value: parsed.value };
    }
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return { kind: 'scalar', start, end: pos, value: literal };
      }
    }
    NUMBER.lastIndex = pos;
    const number = NUMBER.exec(text);
    if (number) {
      pos += number[0].length;
      return { kind: 'scalar', start, end: pos, value: Number(number[0]) };
    }
    return fail(`unexpected ${describe(pos)}`);
  };

  const root = value(0);
  skip();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the end of the document`);
  return root;
}

/** The plain value of a node (the last of duplicate keys wins, as in JSON.parse). */
export function toValue(node: Node): JsonValue {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'array') return node.items.map(toValue);
  const out: { [key: string]: JsonValue } = {};
  for (const member of node.members) {
    // defineProperty: a "__proto__" key in someone's file is data, not a prototype change.
    Object.defineProperty(out, member.key, {
      value: toValue(member.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The last member with this key (the one JSON.parse would keep). */
export function findMember(node: ObjectNode, key: string): Member | undefined {
  for (let i = node.members.length - 1; i >= 0; i--) if (node.members[i]!.key === key) return node.members[i];
  return undefined;
}

/** The file's own style, so what we add looks like what is there. */
interface Style {
  eol: string;
  /** One level of indentation. */
  unit: string;
}

function styleOf(text: string, root: ObjectNode): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const first = root.members[0];
  const indent = first ? lineIndent(text, first.keyStart) : undefined;
  return { eol, unit: indent ? indent : '  ' };
}

/** The whitespace before `at` on its line, if only whitespace precedes it there; else undefined. */
function lineIndent(text: string, at: number): string | undefined {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const before = text.slice(lineStart, at);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

/** Indentation of the line holding `at`, whatever follows it. */
function indentOfLine(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function render(value: JsonValue, style: Style, indent: string): string {
  return JSON.stringify(value, null, style.unit)
    .split('\n')
    .join(style.eol + indent);
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Position after horizontal whitespace. */
function skipBlanks(text: string, at: number): number {
  while (text[at] === ' ' || text[at] === '\t') at++;
  return at;
}

/** The `,` following a member's value (skipping blanks and comments), or -1. */
function commaAfter(text: string, at: number): number {
  for (;;) {
    at = skipBlanks(text, at);
    const c = text[at];
    if (c === '\n' || c === '\r') at++;
    else if (c === '/' && text[at + 1] === '/') at = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
    else if (c === '/' && text[at + 1] === '*') at = text.indexOf('*/', at) + 2;
    else return c === ',' ? at : -1;
  }
}

/**
 * Where a new line can start after `at`: past blanks and comments that end on this line, before the
 * line break (or before whatever else follows on the line, such as a closing brace).
 */
function endOfLine(text: string, at: number): number {
  for (;;) {
    at = skipBlanks(text, at);
    if (text.startsWith('//', at)) {
      const newline = text.indexOf('\n', at);
      at = newline < 0 ? text.length : newline;
      return text[at - 1] === '\r' ? at - 1 : at;
    }
    if (text.startsWith('/*', at)) {
      const close = text.indexOf('*/', at + 2);
      if (text.slice(at, close).includes('\n')) return at;
      at = close + 2;
      continue;
    }
    return at;
  }
}

/** Adds `"key": value` as the last member of `object`, in the layout the object already uses. */
function insertMember(text: string, object: ObjectNode, key: string, value: JsonValue, style: Style): string {
  const last = object.members.at(-1);
  if (!last) {
    const outer = indentOfLine(text, object.start);
    const inner = outer + style.unit;
    const member = `${JSON.stringify(key)}: ${render(value, style, inner)}`;
    const interior = text.slice(object.start + 1, object.end - 1);
    // `{}` or `{ }` becomes a multi-line object; a body with comments keeps them after our member.
    if (/^\s*$/.test(interior)) {
      return splice(text, object.start + 1, object.end - 1, `${style.eol}${inner}${member}${style.eol}${outer}`);
    }
    return splice(text, object.start + 1, object.start + 1, `${style.eol}${inner}${member}`);
  }
  const comma = commaAfter(text, last.value.end);
  const trailing = comma >= 0;
  const indent = lineIndent(text, object.members[0]!.keyStart);
  if (indent === undefined) {
    // One-line object: `{"a": 1}` → `{"a": 1, "ours": {…}}`.
    const member = `${JSON.stringify(key)}: ${JSON.stringify(value)}`;
    return trailing
      ? splice(text, comma + 1, comma + 1, ` ${member},`)
      : splice(text, last.value.end, last.value.end, `, ${member}`);
  }
  // One member per line: ours goes on a new line after the last one (after a comment on its line),
  // keeping a trailing-comma style if the file has one.
  const member = `${JSON.stringify(key)}: ${render(value, style, indent)}`;
  const lineEnd = endOfLine(text, trailing ? comma + 1 : last.value.end);
  const added = `${style.eol}${indent}${member}${trailing ? ',' : ''}`;
  const withMember = splice(text, lineEnd, lineEnd, added);
  return trailing ? withMember : splice(withMember, last.value.end, last.value.end, ',');
}

/** Removes one member and its separator, so that adding then removing gives back the same bytes. */
function removeMember(text: string, object: ObjectNode, index: number): string {
  const member = object.members[index]!;
  const previous = index > 0 ? object.members[index - 1] : undefined;
  const next = object.members[index + 1];
  const comma = commaAfter(text, member.value.end);
  const ownLine = lineIndent(text, member.keyStart) !== undefined;
  let end = comma >= 0 ? comma + 1 : member.value.end;
  const rest = skipBlanks(text, end);
  if (ownLine && (text[rest] === '\n' || text.startsWith('\r\n', rest))) {
    // The member fills whole lines: remove them.
    const start = text.lastIndexOf('\n', member.keyStart - 1) + 1;
    end = rest + (text[rest] === '\r' ? 2 : 1);
    let out = splice(text, start, end, '');
    if (!next && comma < 0 && previous) {
      // It was the last member without a trailing comma: the previous one's comma must go too.
      const before = commaAfter(out, previous.value.end);
      if (before >= 0) out = splice(out, before, before + 1, '');
    }
    return collapseIfEmpty(out, object.start);
  }
  if (next) return collapseIfEmpty(splice(text, member.keyStart, skipSpace(text, end), ''), object.start);
  if (previous) {
    const before = commaAfter(text, previous.value.end);
    return collapseIfEmpty(splice(text, before, member.value.end, ''), object.start);
  }
  return collapseIfEmpty(splice(text, member.keyStart, end, ''), object.start);
}

function skipSpace(text: string, at: number): number {
  while (/\s/.test(text[at] ?? '')) at++;
  return at;
}

/** `{\n  \n}` left by removing the only member becomes `{}` again. */
function collapseIfEmpty(text: string, objectStart: number): string {
  const close = skipSpace(text, objectStart + 1);
  return text[close] === '}' ? splice(text, objectStart + 1, close, '') : text;
}

/** Where `pathKeys` leads to a value that is not an object: editing it would change its meaning. */
export class NotAnObjectError extends Error {
  override readonly name = 'NotAnObjectError';
  constructor(readonly path: string) {
    super(`"${path}" is not an object`);
  }
}

function objectAt(root: Node, keys: readonly string[]): ObjectNode | undefined {
  let node: Node = root;
  const walked: string[] = [];
  for (const key of keys) {
    if (node.kind !== 'object') throw new NotAnObjectError(walked.join('.') || '(top level)');
    const member = findMember(node, key);
    walked.push(key);
    if (!member) return undefined;
    node = member.value;
  }
  if (node.kind !== 'object') throw new NotAnObjectError(walked.join('.') || '(top level)');
  return node;
}

/**
 * Sets `container[name] = value` where container is the object at `keys` (created if missing).
 * Returns the new text; an existing entry's value is replaced in place.
 */
export function setEntry(text: string, keys: readonly string[], name: string, value: JsonValue): string {
  if (/^\uFEFF?\s*$/.test(text)) {
    let fresh: JsonValue = { [name]: value };
    for (const key of [...keys].reverse()) fresh = { [key]: fresh };
    return JSON.stringify(fresh, null, 2) + '\n';
  }
  const root = parseJsonc(text);
  if (root.kind !== 'object') throw new NotAnObjectError('(top level)');
  const style = styleOf(text, root);
  // Walk down, creating the first missing level with everything below it in one insertion.
  let node: ObjectNode = root;
  for (let i = 0; i < keys.length; i++) {
    const member = findMember(node, keys[i]!);
    if (!member) {
      let nested: JsonValue = { [name]: value };
      for (const key of keys.slice(i + 1).reverse()) nested = { [key]: nested };
      return insertMember(text, node, keys[i]!, nested, style);
    }
    if (member.value.kind !== 'object') throw new NotAnObjectError(keys.slice(0, i + 1).join('.'));
    node = member.value;
  }
  const existing = findMember(node, name);
  if (!existing) return insertMember(text, node, name, value, style);
  if (JSON.stringify(toValue(existing.value)) === JSON.stringify(value)) return text;
  const inline = lineIndent(text, existing.keyStart) === undefined;
  const rendered = inline ? JSON.stringify(value) : render(value, style, indentOfLine(text, existing.keyStart));
  return splice(text, existing.value.start, existing.value.end, rendered);
}

/** Removes every `container[name]` (duplicates included); the text is unchanged if there is none. */
export function removeEntry(text: string, keys: readonly string[], name: string): string {
  if (/^\uFEFF?\s*$/.test(text)) return text;
  for (;;) {
    const container = objectAt(parseJsonc(text), keys);
    const index = container ? container.members.findIndex((m) => m.key === name) : -1;
    if (!container || index < 0) return text;
    text = removeMember(text, container, index);
  }
}

/** The plain object at `keys`, or undefined when a level is missing. */
export function readObject(text: string, keys: readonly string[]): { [key: string]: JsonValue } | undefined {
  if (/^\uFEFF?\s*$/.test(text)) return undefined;
  const container = objectAt(parseJsonc(text), keys);
  return container ? (toValue(container) as { [key: string]: JsonValue }) : undefined;
}
