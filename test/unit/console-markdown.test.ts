// An announcement's Markdown body as the console's banner gets it: rendered, with none of the
// author's raw HTML, no image, and links only to http, https and mailto.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderMarkdown } from '../../agent/src/console/markdown.js';
import { consoleNotice } from '../../agent/src/console/routes-announcements.js';

test('Markdown is rendered: emphasis, code, lists, a web link opening apart', () => {
  assert.is(renderMarkdown('Move to **2.0**, run `duck backup shop`.'), '<p>Move to <strong>2.0</strong>, run <code>duck backup shop</code>.</p>\n');
  assert.is(renderMarkdown('- one\n- two'), '<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
  assert.is(renderMarkdown('[notes](https://example.com/n)'), '<p><a href="https://example.com/n" rel="noopener noreferrer" target="_blank">notes</a></p>\n');
  assert.match(renderMarkdown('<mailto:ops@example.com>'), /<a href="mailto:ops@example.com"/);
});

test('raw HTML comes out as text, inline and as a block', () => {
  assert.is(renderMarkdown('a <b onclick="x()">b</b>'), '<p>a &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt;</p>\n');
  assert.is(renderMarkdown('<script>alert(1)</script>'), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n');
});

test('links other than http, https and mailto stay text, and images are not made', () => {
  for (const source of ['[x](javascript:alert(1))', '[x](JAVASCRIPT:alert(1))', '[x](data:text/html,hi)', '[x](vbscript:y)', '[x](/relative)', '[x](file:///etc/passwd)']) {
    assert.not.match(renderMarkdown(source), /<a /, source);
  }
  const image = renderMarkdown('![pixel](https://example.com/p.png)');
  assert.not.match(image, /<img/);
});

test('a notice reaches the page with its body as HTML, never its source', () => {
  const notice = consoleNotice({ id: 'n', title: 't', body: '*hi*', severity: 'info', expires: '2099-01-01T00:00:00Z', acknowledgedAt: null });
  assert.equal(notice, { id: 'n', title: 't', severity: 'info', expires: '2099-01-01T00:00:00Z', bodyHtml: '<p><em>hi</em></p>\n', acknowledgedAt: null });
});

test.run();
