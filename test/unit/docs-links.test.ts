// The README and docs/ link into each other and into the source. A moved file or a renamed heading
// breaks a link silently; this test finds it. Links on a line marked `<!-- verify-after-merge -->`
// name paths that other branches create: they are listed, not checked, until the marker is removed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gateway.js';

const MARKER = '<!-- verify-after-merge -->';

/** GitHub's heading anchor: lowercase, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) continue;
    const base = match[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Inline links `[text](target)` outside code, with their line; targets with a scheme are left out. */
export function relativeLinks(markdown: string): Array<{ line: number; target: string; marked: boolean }> {
  const links: Array<{ line: number; target: string; marked: boolean }> = [];
  let fenced = false;
  markdown.split('\n').forEach((text, index) => {
    if (/^\s*```/.test(text)) fenced = !fenced;
    if (fenced) return;
    const prose = text.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ line: index + 1, target, marked: text.includes(MARKER) });
    }
  });
  return links;
}

interface Files {
  read(path: string): string;
  exists(path: string): boolean;
}

const disk: Files = {
  read: (path) => readFileSync(path, 'utf8'),
  exists: (path) => existsSync(path),
};

/** Every unmarked relative link in `file` that leaves the repository, names no file, or no heading. */
export function brokenLinks(file: string, root: string, files: Files = disk): string[] {
  const { read, exists } = files;
  const problems: string[] = [];
  const where = relative(root, file);
  for (const { line, target, marked } of relativeLinks(read(file))) {
    if (marked) continue;
    const [path = '', anchor] = target.split('#', 2);
    const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (resolved !== root && !resolved.startsWith(root + sep)) {
      problems.push(`${where}:${line}: ${target} leaves the repository`);
      continue;
    }
    if (!exists(resolved)) {
      problems.push(`${where}:${line}: ${target}: no such file`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md')) {
      if (!headingAnchors(read(resolved)).has(anchor)) {
        problems.push(`${where}:${line}: ${target}: no heading "#${anchor}" in ${relative(root, resolved)}`);
      }
    }
  }
  return problems;
}

/** Repository paths named in code spans (`src/x.ts`, `test/e2e/`) outside code blocks, with their line. */
export function namedPaths(markdown: string): Array<{ line: number; path: string; marked: boolean }> {
  const paths: Array<{ line: number; path: string; marked: boolean }> = [];
  let fenced = false;
  markdown.split('\n').forEach((text, index) => {
    if (/^\s*```/.test(text)) fenced = !fenced;
    if (fenced) return;
    for (const match of text.matchAll(/`([^`\s]+)`/g)) {
      const path = match[1]!;
      if (!/^(src|electron|renderer|test|bench|scripts|docs|\.ci)\/[\w./-]*$/.test(path)) continue;
      paths.push({ line: index + 1, path, marked: text.includes(MARKER) });
    }
  });
  return paths;
}

/** Every unmarked repository path named in `file` that does not exist. */
export function missingPaths(file: string, root: string, files: Files = disk): string[] {
  return namedPaths(files.read(file))
    .filter(({ marked, path }) => !marked && !files.exists(join(root, path)))
    .map(({ line, path }) => `${relative(root, file)}:${line}: ${path}: no such file or folder`);
}

const docs = () => [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name)),
];

describe('links in the README and docs/', () => {
  it('finds a missing file, a missing heading and a link out of the repository', () => {
    const pages: Record<string, string> = {
      '/repo/README.md': '# Top\n[ok](docs/a.md#the-page) [gone](docs/b.md) [head](docs/a.md#nope) [out](../x.md)\n',
      '/repo/docs/a.md': '# The page\n',
    };
    const files = { read: (path: string) => pages[path] ?? '', exists: (path: string) => path in pages };
    expect(brokenLinks('/repo/README.md', '/repo', files)).toEqual([
      'README.md:2: docs/b.md: no such file',
      'README.md:2: docs/a.md#nope: no heading "#nope" in docs/a.md',
      'README.md:2: ../x.md leaves the repository',
    ]);
  });

  it('reads anchors the way GitHub writes them', () => {
    const anchors = headingAnchors('# Public tunnel (claude.ai connectors)\n## `serve`\n## Setup\n## Setup\n');
    expect([...anchors]).toEqual(['public-tunnel-claudeai-connectors', 'serve', 'setup', 'setup-1']);
  });

  it('leaves out links in code and marked lines', () => {
    const links = relativeLinks(
      '`[a](b.md)`\n```\n[c](d.md)\n```\n[e](f.md) <!-- verify-after-merge -->\n[g](https://x.org)\n',
    );
    expect(links).toEqual([{ line: 5, target: 'f.md', marked: true }]);
  });

  it('has no broken relative link in README.md or docs/*.md', () => {
    expect(docs().flatMap((file) => brokenLinks(file, ROOT))).toEqual([]);
  });

  it('finds a path named in code that does not exist, unless its line is marked', () => {
    const pages: Record<string, string> = {
      '/repo/docs/a.md': '`src/gone.ts` and `src/here.ts`, `npm test`\n`src/later.ts` <!-- verify-after-merge -->\n',
    };
    const files = { read: (path: string) => pages[path] ?? '', exists: (path: string) => path === '/repo/src/here.ts' };
    expect(missingPaths('/repo/docs/a.md', '/repo', files)).toEqual([
      'docs/a.md:1: src/gone.ts: no such file or folder',
    ]);
  });

  it('names no missing file or folder of the repository in README.md or docs/*.md', () => {
    expect(docs().flatMap((file) => missingPaths(file, ROOT))).toEqual([]);
  });

  it('keeps the README short and linking into docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(160);
    for (const page of ['architecture', 'configuration', 'cli', 'authorization', 'security', 'development']) {
      expect(readme).toContain(`](docs/${page}.md)`);
    }
  });
});
