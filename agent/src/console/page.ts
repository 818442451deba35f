/**
 * The console's page until the pages of issue 16 arrive: plain HTML and one ES module, no build
 * step, nothing inline (the CSP allows scripts from 'self' only). Held as strings so the bundled
 * agent carries them without a file layout to find at run time.
 */
const INDEX = {
  type: 'text/html; charset=utf-8',
  body: `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Duck console</title><script type="module" src="/console.js"></script></head>
<body><main><h1>Duck console</h1><p id="message">Loading…</p><pre id="status"></pre></main></body>
</html>
`,
};

export const ASSETS: Readonly<Record<string, { readonly type: string; readonly body: string }>> = {
  '/': INDEX,
  '/login': INDEX,
  '/console.js': {
    type: 'text/javascript; charset=utf-8',
    body: `// The login link carries its token in the fragment, which no request line or log holds.
const message = document.getElementById('message');
const show = (text) => { message.textContent = text; };

async function login(token) {
  history.replaceState(null, '', '/');
  const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (!res.ok) throw new Error((await res.json()).message);
}

async function main() {
  if (location.pathname === '/login') await login(location.hash.slice(1));
  const res = await fetch('/api/status');
  if (res.status === 401) return show('Not logged in: run duck console --open on the node for a login link.');
  if (!res.ok) return show((await res.json()).message);
  show('This node, as duck status --json sees it:');
  document.getElementById('status').textContent = JSON.stringify(await res.json(), null, 2);
}

main().catch((err) => show(err.message));
`,
  },
};
