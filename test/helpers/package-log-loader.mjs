// A module loader hook (node --import) that writes to stderr, once each, the npm packages the
// process loads: `[package] <name>`. Tests use it to see which libraries a CLI command pulls in.
import { register } from 'node:module';

const hooks = `
const seen = new Set();
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
  }
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
