// A module loader hook (node --import) that writes to stderr, once each, the npm packages the
// process loads: `[package] <name>`, and each of their files: `[file] <name>/<path>`. Tests use it
// to see which libraries (and which parts of them) a CLI command pulls in. It also writes
// `[intl] DateTimeFormat` the first time one is made: the node's zone lookup that loads ICU's data;
// and, at exit, each built-in module the process loaded: `[builtin] <name>` (node:http, ...).
import { register } from 'node:module';

const hooks = `
const seen = new Set();
const files = new Set();
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const tail = result.url.split('/node_modules/').pop();
  if (tail !== result.url) {
    const parts = tail.split('/');
    const name = parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (!seen.has(name)) {
      seen.add(name);
      process.stderr.write('[package] ' + name + '\\n');
    }
    if (!files.has(tail)) {
      files.add(tail);
      process.stderr.write('[file] ' + tail + '\\n');
    }
  }
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const DateTimeFormat = Intl.DateTimeFormat;
let logged = false;
const logFirst = () => {
  if (!logged) process.stderr.write('[intl] DateTimeFormat\n');
  logged = true;
};
Intl.DateTimeFormat = new Proxy(DateTimeFormat, {
  construct(target, args) {
    logFirst();
    return Reflect.construct(target, args);
  },
  apply(target, self, args) {
    logFirst();
    return Reflect.apply(target, self, args);
  },
});

process.on('exit', () => {
  for (const entry of process.moduleLoadList) {
    if (entry.startsWith('NativeModule ')) process.stderr.write(`[builtin] ${entry.slice('NativeModule '.length)}\n`);
  }
});
