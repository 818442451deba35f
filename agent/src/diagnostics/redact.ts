// Pure: what leaves the node in a diagnostics bundle carries no secret (DESIGN §4.8). Values are
// redacted by the name of their key, URLs lose their userinfo, and every secret value found in
// the config is also cut out of free text (logs), wherever it shows up.

export const REDACTED = '[redacted]';

/** Names of keys (and environment variables) whose values are secrets. */
const SECRET_NAME = /(token|passw(or)?d|passwd|pwd|secret|passphrase|credential|private[_.-]?key|api[_.-]?key|access[_.-]?key|auth|cookie|session[_.-]?key|signing[_.-]?key|encryption[_.-]?key|^key$|_key$)/i;
/** A key naming a file or path holds where the secret is, not the secret: kept, it helps debugging. */
const PATH_NAME = /(file|path|dir)$/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*(?::[^\s/@]*)?)@/gi;
/** "password=…", "API_KEY: …", "\"token\": \"…\"" in free text. */
const TEXT_ASSIGNMENT = /(["']?)([A-Za-z0-9_.-]*(?:token|passw(?:or)?d|secret|passphrase|credential|api[_.-]?key|private[_.-]?key|access[_.-]?key)[A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(["']?)([^\s"',;}]+)\4/gi;
/** A secret shorter than this is not searched for in free text: "1" or "yes" would blank out logs. */
const MIN_SECRET_LENGTH = 6;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !PATH_NAME.test(name);
}

export interface Redacted<T> {
  readonly value: T;
  /** The secret values removed, to cut out of free text too. */
  readonly secrets: readonly string[];
}

/** A deep copy with every value under a secret-named key redacted and URL userinfo removed. */
export function redactValue<T>(value: T): Redacted<T> {
  const secrets = new Set<string>();
  const walk = (v: unknown, secret: boolean): unknown => {
    if (Array.isArray(v)) return v.map((item) => walk(item, secret));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, item]) => [k, walk(item, secret || isSecretName(k))]));
    }
    if (secret && (typeof v === 'string' || typeof v === 'number')) {
      secrets.add(String(v));
      return REDACTED;
    }
    if (typeof v === 'string') return redactUrls(v, secrets);
    return v;
  };
  return { value: walk(value, false) as T, secrets: [...secrets] };
}

/** Cuts known secrets, URL userinfo and secret-looking assignments out of free text. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first, so a secret that contains another is cut whole.
  for (const secret of [...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  return out.replace(TEXT_ASSIGNMENT, (_m, q: string, name: string, sep: string, vq: string) => `${q}${name}${q}${sep}${vq}${REDACTED}${vq}`);
}

function redactUrls(text: string, secrets: Set<string>): string {
  return text.replace(URL_USERINFO, (_m, scheme: string, userinfo: string) => {
    const password = userinfo.split(':')[1];
    secrets.add(password ? password : userinfo);
    return `${scheme}${REDACTED}@`;
  });
}
