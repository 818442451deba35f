// `duck release agent add` reads each tarball's platform and version from its name, as
// `npm run build:artifact` writes it: duck-<version>-linux-<arch>.tar.gz.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { artifactPlatform } from '../../agent/src/release/add-agent-release.js';
import { DuckError } from '../../schemas/errors.js';

function refusal(name: string, version: string): string {
  try {
    artifactPlatform(name, version);
  } catch (err) {
    assert.instance(err, DuckError);
    assert.is((err as DuckError).code, 'usage');
    return (err as DuckError).message;
  }
  throw new Error(`${name} was accepted`);
}

test('the platform comes from the name: linux-x64 and linux-arm64', () => {
  assert.is(artifactPlatform('duck-0.2.0-linux-x64.tar.gz', '0.2.0'), 'linux-x64');
  assert.is(artifactPlatform('duck-1.0.0-rc.1-linux-arm64.tar.gz', '1.0.0-rc.1'), 'linux-arm64');
});

test('a name of another shape, platform or version is refused, saying which', () => {
  assert.match(refusal('duck-0.2.0-linux-x64.tgz', '0.2.0'), /not an agent build tarball: expected duck-<version>-linux-<x64\|arm64>\.tar\.gz/);
  assert.match(refusal('duck-0.2.0-darwin-arm64.tar.gz', '0.2.0'), /not an agent build tarball/);
  assert.match(refusal('duck-0.2.1-linux-x64.tar.gz', '0.2.0'), /is the build of version 0\.2\.1, not --version 0\.2\.0/);
  assert.match(refusal('duck-controller-0.2.0-linux-x64.tar.gz', '0.2.0'), /the controller's build, not the agent's/);
});

test.run();
