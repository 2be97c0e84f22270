// Avatars, made locally and deterministically from the username (no outside service):
// the first letter on a colour picked by a hash of the case-folded name, so "Alice" and
// "alice" (one account) look the same everywhere and on every server.
import crypto from 'node:crypto';
import { escapeHtml } from '../http/escape.ts';
import { usernameKey } from './user-model.ts';

export interface AvatarSubject {
  username: string;
}

export function avatarUrl(user: AvatarSubject): string {
  return `/avatars/${encodeURIComponent(user.username)}.svg`;
}

/** HSL (h in degrees, s and l in 0..1) as #rrggbb, which every SVG renderer reads. */
function hslToHex(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return `#${[0, 8, 4].map((n) => Math.round(channel(n) * 255).toString(16).padStart(2, '0')).join('')}`;
}

/** Dark enough behind white letters (large text) for every hue. */
export function avatarColour(username: string): string {
  const hue = crypto.createHash('sha256').update(usernameKey(username)).digest().readUInt16BE(0) % 360;
  return hslToHex(hue, 0.55, 0.36);
}

const NEUTRAL_COLOUR = '#6c757d';
const SIZE = 96;

/**
 * The SVG for a user, or for nobody (an unknown name): grey with a question mark.
 * Every piece of text is escaped, though usernames cannot hold markup characters.
 */
export function avatarSvg(user: AvatarSubject | null): string {
  const letter = user ? ([...user.username][0] ?? '?').toUpperCase() : '?';
  const fill = user ? avatarColour(user.username) : NEUTRAL_COLOUR;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">` +
    `<rect width="${SIZE}" height="${SIZE}" rx="${SIZE / 2}" fill="${fill}"/>` +
    `<text x="50%" y="50%" dy="0.35em" text-anchor="middle" fill="#ffffff" font-size="44" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif">` +
    `${escapeHtml(letter)}</text></svg>`
  );
}
