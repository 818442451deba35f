// The checks a release's compose file must pass before nodes ever see it: it parses, it is a
// mapping with `services`, and every service names an image that the release lists (an image the
// release does not pin would be pulled by tag, whatever that tag points at on the day).
import type { Node } from 'yaml';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { LintProblem } from './lint-problem.js';

export interface ComposeImage {
  readonly service: string;
  readonly image: string;
  readonly line: number;
  readonly column: number;
}

export interface ComposeCheck {
  readonly problems: LintProblem[];
  readonly images: ComposeImage[];
}

export function checkCompose(text: string, file: string): ComposeCheck {
  const lines = new LineCounter();
  // Compose files use anchors and merge keys (`<<: *defaults`); both are allowed here.
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const at = (node: unknown): { line: number; column: number } => {
    const offset = (node as Node | null)?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const problem = (where: { line: number; column: number }, field: string, message: string): LintProblem => ({
    file,
    ...where,
    field,
    code: 'invalid',
    message,
  });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return problem({ line, column: col }, '', `invalid compose YAML: ${e.message.replace(/\s+/g, ' ').trim()}`);
      }),
      images: [],
    };
  }
  const root = doc.contents;
  if (!isMap(root)) return { problems: [problem(at(root), '', 'a compose file must be a mapping with a "services" key')], images: [] };
  const services = root.get('services', true);
  if (!isMap(services) || services.items.length === 0) {
    const where = services === undefined ? { line: 1, column: 1 } : at(services);
    return { problems: [problem(where, '/services', 'a compose file needs a non-empty "services" mapping')], images: [] };
  }
  const problems: LintProblem[] = [];
  const images: ComposeImage[] = [];
  for (const pair of services.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '?';
    const field = `/services/${name}`;
    const service = pair.value;
    if (!isMap(service)) {
      problems.push(problem(at(service ?? pair.key), field, `service "${name}" must be a mapping`));
      continue;
    }
    const image = service.get('image', true);
    if (!isScalar(image) || typeof image.value !== 'string' || image.value === '') {
      // Nodes run images; a `build:` section would build on every node, from unpinned sources.
      problems.push(problem(at(image ?? pair.key), `${field}/image`, `service "${name}" has no image (nodes run images; they do not build them)`));
      continue;
    }
    images.push({ service: name, image: image.value, ...at(image) });
  }
  return { problems, images };
}

/**
 * Compose images the release does not list. An image with a `${VAR}` in it cannot be checked
 * here (the node's environment decides it) and is left out.
 */
export function unlistedImages(images: readonly ComposeImage[], listed: readonly string[], file: string): LintProblem[] {
  const known = new Set(listed);
  return images
    .filter((i) => !i.image.includes('$') && !known.has(i.image))
    .map((i) => ({
      file,
      line: i.line,
      column: i.column,
      field: `/services/${i.service}/image`,
      code: 'invalid' as const,
      message: `image ${i.image} is not among the release's images: list it in release.yaml (by digest, or with its id and archive)`,
    }));
}
