// What `duck release lint` and `add` demand of a release's compose file, as pure checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkCompose, unlistedImages } from '../../agent/src/release/compose-check.js';
import { withSignature } from '../../agent/src/release/commit-writer.js';
import { parseCommitObject } from '../../agent/src/channel/commit-object.js';

const Compose = suite('checkCompose');

Compose('a mapping with services yields each service image and its position', () => {
  const r = checkCompose('x-common: &c { restart: always }\nservices:\n  web:\n    <<: *c\n    image: shop/web:1.0\n', 'compose.yaml');
  assert.equal(r.problems, []);
  assert.equal(r.images, [{ service: 'web', image: 'shop/web:1.0', line: 5, column: 12 }]);
});

Compose('refuses a file that is not YAML, not a mapping, or has no services, with the line', () => {
  const cases: Array<[string, string]> = [
    ['services:\n  web: [\n', '3:1: invalid compose YAML'],
    ['- web\n', '1:1: a compose file must be a mapping'],
    ['version: "3"\n', '1:1: a compose file needs a non-empty "services" mapping'],
    ['services:\n  web:\n    build: .\n', '2:3: service "web" has no image'],
  ];
  for (const [text, expected] of cases) {
    const p = checkCompose(text, 'c.yaml').problems[0];
    assert.ok(p, text);
    assert.ok(`${p.line}:${p.column}: ${p.message}`.startsWith(expected), `${text} -> ${p.line}:${p.column}: ${p.message}`);
  }
});

Compose('an image the release does not list is a problem; one with a variable cannot be judged', () => {
  const { images } = checkCompose('services:\n  a:\n    image: x:1\n  b:\n    image: y:${TAG}\n  c:\n    image: z:1\n', 'c.yaml');
  assert.equal(unlistedImages(images, ['x:1'], 'c.yaml').map((p) => `${p.line}:${p.field}`), ['7:/services/c/image']);
});

Compose.run();

const Signature = suite('withSignature');

Signature('adds a gpgsig header that the agent parser strips back to the exact signed bytes', () => {
  const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nmsg \r\n');
  const armored = '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n=BBBB\n-----END PGP SIGNATURE-----\n';
  const parsed = parseCommitObject(withSignature(payload, armored), 'x'.repeat(40));
  assert.equal(Buffer.from(parsed.signedPayload), payload);
  assert.is(parsed.armoredSignature, armored);
});

Signature.run();
