/**
 * Reading and editing other apps' JSONC config files, keeping the user's comments and layout.
 *
 * VS Code's mcp.json is JSONC (comments, trailing commas) and Gemini CLI strips comments too, so
 * `JSON.parse` would refuse files those apps accept. Parsing is Microsoft's `jsonc-parser` (the one
 * VS Code reads these files with): a tree with every value's offsets. Replacing our existing entry
 * uses its `modify` + `applyEdits`. Adding and removing an entry splice the text here instead,
 * because measured on our cases `modify` rewrites more than the entry: it re-formats the neighbour
 * before an insertion (a one-line `{ "type": "stdio" }` becomes four lines), expands one-line
 * objects, and drops a comment that follows the entry it removes (`"git": 1, // mine`). Here
 * everything but our one entry stays byte for byte as it was (jsonc.test.ts holds those cases).
 *
 * Accepted: JSON (RFC 8259) plus `//` and `/* *\/` comments, trailing commas and a leading BOM.
 * Anything else (single quotes, bare keys, NaN…) is an error with line and column.
 */
import {
  applyEdits,
  modify,
  parseTree,
  printParseErrorCode,
  type Node as TreeNode,
  type ParseError,
} from 'jsonc-parser';

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

/** What each parse error says to a user who opens the file ("CloseBraceExpected" does not). */
const PROBLEMS: Partial<Record<ReturnType<typeof printParseErrorCode>, string>> = {
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":" after the property name',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "," or "}"',
  CloseBracketExpected: 'expected "," or "]"',
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated /* comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid string (bad escape or control character)',
};

/**
 * The first problem, where it is and what was found there. jsonc-parser reports a stray character
 * as `InvalidSymbol` and what it expected in a second error: the user reads both in one line.
 */
function syntaxError(text: string, errors: readonly ParseError[], root: TreeNode | undefined): JsoncSyntaxError {
  const [first, second] = errors;
  if (!first) return new JsoncSyntaxError('expected a value, found end of file', 1, 1);
  const found = first.offset >= text.length ? 'end of file' : JSON.stringify(text[first.offset]);
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  const code = printParseErrorCode(first.error);
  let problem = `${PROBLEMS[code] ?? code}, found ${found}`;
  if (code === 'InvalidSymbol') {
    const expected = second ? printParseErrorCode(second.error) : undefined;
    if (root && first.offset >= root.offset + root.length)
      problem = `unexpected ${found} after the end of the document`;
    else if (expected === 'PropertyNameExpected') problem = `${PROBLEMS[expected]}, found ${found}`;
    else problem = `unexpected ${found}`;
  }
  return new JsoncSyntaxError(problem, line, column);
}

/** jsonc-parser's tree in our shape (members with their key's offset); `__proto__` stays a key. */
function fromTree(node: TreeNode): Node {
  const span = { start: node.offset, end: node.offset + node.length };
  if (node.type === 'object') {
    const members = (node.children ?? []).map((property) => {
      const [key, value] = property.children as [TreeNode, TreeNode];
      return { key: key.value as string, keyStart: key.offset, value: fromTree(value) };
    });
    return { kind: 'object', ...span, members };
  }
  if (node.type === 'array') return { kind: 'array', ...span, items: (node.children ?? []).map(fromTree) };
  return { kind: 'scalar', ...span, value: node.value as ScalarNode['value'] };
}

/** Parses JSONC text into a tree with offsets. The top level may be any value. */
export function parseJsonc(text: string): Node {
  // A BOM is not JSON; as a space it keeps every offset where it is in the file.
  const source = text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) throw syntaxError(source, errors, root);
  return fromTree(root);
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
  if (lineIndent(text, existing.keyStart) === undefined) {
    // One-line layout: the entry stays on its line (modify would spread it over several).
    return splice(text, existing.value.start, existing.value.end, JSON.stringify(value));
  }
  const duplicated = node.members.filter((m) => m.key === name).length > 1;
  if (text.charCodeAt(0) === 0xfeff || duplicated) {
    // jsonc-parser edits the first of duplicate keys (JSON.parse keeps the last) and reads a BOM as
    // a stray character: splice the value of the member that counts.
    const rendered = render(value, style, indentOfLine(text, existing.keyStart));
    return splice(text, existing.value.start, existing.value.end, rendered);
  }
  // Our entry on its own lines: only its value changes, formatted in the file's indentation.
  const tabs = style.unit.startsWith('\t');
  const formattingOptions = { insertSpaces: !tabs, tabSize: tabs ? 1 : style.unit.length, eol: style.eol };
  return applyEdits(text, modify(text, [...keys, name], value, { formattingOptions }));
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
