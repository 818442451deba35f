// `duck release lint` on channel.yaml's promotion floor: a floor is a bound the publishers set for
// promotion-only keys (DESIGN §3), so it must name an app and a version the channel publishes —
// a misspelt app would bound nothing, and a floor no release meets would block every promotion.
import type { ChannelFile } from '../../../schemas/index.js';
import { CHANNEL_FILE } from '../channel/trust-policy.js';
import type { LintProblem, TextOf } from './lint-problem.js';
import { positionOf } from './lint-problem.js';

/** `releases`: the release directories of the working tree, as app and version. */
export async function lintPromotionFloor(
  channel: ChannelFile,
  releases: Iterable<{ app: string; version: string }>,
  textOf: TextOf,
): Promise<LintProblem[]> {
  const published = [...releases];
  const problems: LintProblem[] = [];
  for (const [app, version] of Object.entries(channel.promotion?.floor ?? {})) {
    const field = `/promotion/floor/${app}`;
    const message = !published.some((r) => r.app === app)
      ? `no app ${app} is published (releases/${app}/): the floor would bound nothing`
      : !published.some((r) => r.app === app && r.version === version)
        ? `${app} ${version} is not published (releases/${app}/${version}/): a floor names a published version`
        : null;
    if (message === null) continue;
    const where = (await positionOf(textOf, CHANNEL_FILE, field)) ?? { line: 1, column: 1 };
    problems.push({ file: CHANNEL_FILE, ...where, field, code: 'invalid', message });
  }
  return problems;
}
