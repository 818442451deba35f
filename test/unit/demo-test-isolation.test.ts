// The demo and the test suites share one Docker engine on a developer's machine: the tests' hello
// must never be the demo's, or a suite's cleanup (removeProject) and its agent's image pruning
// would take the demo's running stack and images away (issue 12, point 15).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { appLayout } from '../../agent/src/apply/app-layout.js';
import * as demo from '../../examples/hello/app.js';
import * as tests from '../helpers/images.js';

test('the agent runs the tests\' hello and the demo\'s hello as two different compose projects', () => {
  const testProject = appLayout('/var/lib/duck/apps', tests.HELLO_APP).project;
  const demoProject = appLayout('/var/lib/duck/apps', demo.HELLO_APP).project;
  assert.is(testProject, tests.HELLO_PROJECT);
  assert.is(demoProject, demo.HELLO_PROJECT);
  assert.is.not(testProject, demoProject);
});

test('the tests tag their hello images in their own repository, in the releases they publish too', async () => {
  for (const version of demo.HELLO_VERSIONS) {
    assert.is.not(tests.helloImageTag(version), demo.helloImageTag(version));
    const image = (yaml: string) => (parse(yaml) as { services: { web: { image: string } } }).services.web.image;
    assert.is(image(await tests.helloComposeYaml(version)), tests.helloImageTag(version));
    assert.is(image(await demo.helloComposeYaml(version)), demo.helloImageTag(version));
  }
});

test.run();
