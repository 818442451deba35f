// The project's documents point only at files the repository carries: a link that leaves the
// repository (`../shared/DESIGN.md`) or names a file that moved is broken for every reader.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCUMENTS = ['README.md', 'ARCHITECTURE.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/**
 * Where a document points: the targets of its links (`[text](target)`, `[label]: target`), and
 * its code spans that name a relative path (`../x/Y.md`, `./x`) — prose points at files that
 * way too. Fenced code blocks are examples, not pointers.
 */
function pointers(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const links = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  const spans = [...prose.matchAll(/`(\.\.?\/[^`\s]+)`/g)].map((m) => m[1]!);
  return [...links, ...spans];
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#');
}

test('README.md, ARCHITECTURE.md and docs/*.md exist and docs/ holds the design', () => {
  assert.ok(DOCUMENTS.includes('docs/DESIGN.md'), DOCUMENTS.join(', '));
});

for (const document of DOCUMENTS) {
  test(`every relative link in ${document} resolves to a file in the repository`, () => {
    const from = dirname(join(ROOT, document));
    const broken = pointers(readFileSync(join(ROOT, document), 'utf8'))
      .filter(isRelative)
      .filter((target) => {
        const path = resolve(from, decodeURI(target.split('#')[0]!));
        return relative(ROOT, path).startsWith('..') || !existsSync(path);
      });
    assert.equal(broken, [], `${document} points outside the repository or at nothing`);
  });
}

test.run();
