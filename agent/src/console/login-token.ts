import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A login link is for the operator who just asked for it: minutes, not hours. */
export const LOGIN_TOKEN_TTL_MS = 5 * 60_000;

interface TokenFile {
  readonly token: string;
  readonly expiresAt: string;
}

/** `<state>/console/`, root's own (0700): the login token and nothing another user may read. */
export function consoleDir(stateDir: string): string {
  return join(stateDir, 'console');
}

function tokenPath(stateDir: string): string {
  return join(consoleDir(stateDir), 'login-token.json');
}

/**
 * A new one-time login token, written 0600 in the state directory. The file is the handover:
 * `duck console --open` writes it and the server (the daemon's or another process's) reads it when
 * the link is used, so the two need no channel but the state directory. A new token replaces the
 * last one: only the newest link works.
 */
export async function issueLoginToken(stateDir: string, now: Date): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const file: TokenFile = { token, expiresAt: new Date(now.getTime() + LOGIN_TOKEN_TTL_MS).toISOString() };
  await mkdir(consoleDir(stateDir), { recursive: true, mode: 0o700 });
  const tmp = `${tokenPath(stateDir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
  await rename(tmp, tokenPath(stateDir));
  return token;
}

export type TokenVerdict = 'ok' | 'wrong' | 'expired' | 'none';

/**
 * Spends the token if `offered` is it: the file is removed before the answer, so a link works once
 * whatever happens next. A wrong guess leaves the file (a stranger cannot burn the operator's link
 * by guessing); an expired one is removed.
 */
export async function redeemLoginToken(stateDir: string, offered: string, now: Date): Promise<TokenVerdict> {
  let file: TokenFile;
  try {
    file = JSON.parse(await readFile(tokenPath(stateDir), 'utf8')) as TokenFile;
  } catch {
    return 'none';
  }
  if (!sameSecret(file.token, offered)) return 'wrong';
  await rm(tokenPath(stateDir), { force: true });
  return Date.parse(file.expiresAt) > now.getTime() ? 'ok' : 'expired';
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
