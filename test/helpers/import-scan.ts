// The module specifiers a TypeScript file imports, read without the TypeScript compiler: loading
// and parsing with it takes seconds, and the architecture test must stay in the unit tier's budget.
// A small tokenizer is enough, because specifiers are string literals in a few fixed positions; it
// only has to skip comments, strings, templates and regular expressions so that text inside them
// is never taken for an import.

/** One token; a template is one token holding its text up to the first `${`. */
export interface Token {
  kind: 'name' | 'string' | 'template' | 'punct' | 'number';
  text: string;
  /** A template whose text stops at a substitution (`./commands/${name}.js` → `./commands/`). */
  open?: boolean;
}

/** Names after which `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else',
  'yield', 'await',
]);

const NAME_START = /[A-Za-z_$\u0080-\uffff]/;
const NAME_PART = /[\w$\u0080-\uffff]/;

function regexMayStart(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'punct') return !')]}'.includes(prev.text);
  return prev.kind === 'name' && BEFORE_REGEX.has(prev.text);
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // For each template substitution still open, the brace depth at which its `}` closes it.
  const substitutions: number[] = [];
  let depth = 0;
  let i = source.startsWith('#!') ? source.indexOf('\n') : 0;
  if (i < 0) return tokens;

  /** Reads template text from `start` to the closing backtick or the next `${`. */
  const template = (start: number, head: boolean): number => {
    let j = start;
    while (j < source.length && source[j] !== '`' && !(source[j] === '$' && source[j + 1] === '{')) {
      j += source[j] === '\\' ? 2 : 1;
    }
    const open = source[j] === '$';
    if (head) tokens.push({ kind: 'template', text: source.slice(start, j), open });
    if (!open) return j + 1;
    substitutions.push(depth);
    return j + 2;
  };

  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: source.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '`') {
      i = template(i + 1, true);
    } else if (c === '}' && substitutions.at(-1) === depth) {
      substitutions.pop();
      i = template(i + 1, false);
    } else if (c === '/' && regexMayStart(tokens.at(-1))) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n' && (inClass || source[j] !== '/')) {
        if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j += source[j] === '\\' ? 2 : 1;
      }
      j++;
      while (j < source.length && NAME_PART.test(source[j]!)) j++; // flags
      tokens.push({ kind: 'number', text: source.slice(i, j) }); // a value, like a number: `/` after it divides
      i = j;
    } else if (NAME_START.test(c)) {
      let j = i + 1;
      while (j < source.length && NAME_PART.test(source[j]!)) j++;
      tokens.push({ kind: 'name', text: source.slice(i, j) });
      i = j;
    } else if (/\d/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[\w.]/.test(source[j]!)) j++;
      tokens.push({ kind: 'number', text: source.slice(i, j) });
      i = j;
    } else {
      if (c === '{') depth++;
      if (c === '}') depth--;
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/**
 * A dynamic import's argument as a specifier: a literal as written, a template as its text up to the
 * first substitution followed by `*`, anything else as `*` (a path the test cannot read).
 */
function dynamicSpecifier(arg: Token | undefined): string {
  if (arg?.kind === 'string') return arg.text;
  if (arg?.kind === 'template') return arg.open ? `${arg.text}*` : arg.text;
  return '*';
}

/** The clause of `import … from 'x'` or `export … from 'x'` holds only these before `from`; `import.meta` and `import x = …` stop at once. */
function isClauseToken(t: Token): boolean {
  return t.kind === 'name' || (t.kind === 'punct' && '{},*'.includes(t.text));
}

/** `export {…` or `export *` (each maybe after `type`): the only exports that can end in `from`. */
function reExports(tokens: Token[], at: number): boolean {
  const first = tokens[at]?.text === 'type' ? tokens[at + 1] : tokens[at];
  return first?.text === '{' || first?.text === '*';
}

/**
 * Every module specifier in a file: `import … from`, `import 'x'`, `import type`, `export … from`,
 * `import x = require('x')`, `require('x')`, and `import(…)` in code or in types.
 */
export function importSpecifiers(source: string): string[] {
  const tokens = tokenize(source);
  const found: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'name' || tokens[i - 1]?.text === '.') continue;
    const next = tokens[i + 1];
    if (t.text === 'import' && next?.text === '(') {
      found.push(dynamicSpecifier(tokens[i + 2]));
    } else if (t.text === 'require' && next?.text === '(' && tokens[i + 2]?.kind === 'string') {
      found.push(tokens[i + 2]!.text);
    } else if (t.text === 'import' && next?.kind === 'string') {
      found.push(next.text);
    } else if (t.text === 'import' || (t.text === 'export' && reExports(tokens, i + 1))) {
      let j = i + 1;
      while (j < tokens.length && isClauseToken(tokens[j]!) && tokens[j]!.text !== 'from') j++;
      if (tokens[j]?.text === 'from' && tokens[j + 1]?.kind === 'string') found.push(tokens[j + 1]!.text);
    }
  }
  return found;
}
