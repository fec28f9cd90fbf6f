// Reads the users a person pastes or uploads for the impact preview: a JSON array of users as
// `POST /api/evaluate` takes them, or one JSON user per line. Checks the shape the origin
// requires (a non-empty string `id`; `email` and `country` strings or null; `attributes` an
// object) and names the first item that breaks it; the evaluator checks the rest when it runs.
import type { User } from '@pennon/evaluator';

/** The most users a preview takes: the origin's sample holds at most 100,000 per environment. */
export const MAX_USERS = 100_000;

export type Parsed = { users: User[] } | { error: string };

export function parseUsers(text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'no users: paste a JSON array of users, or one JSON user per line' };
  const items: { where: string; value: unknown }[] = [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      return { error: `not a JSON array: ${message(err)}` };
    }
    if (!Array.isArray(parsed)) return { error: 'not a JSON array' };
    parsed.forEach((value, i) => items.push({ where: `item ${i + 1}`, value }));
  } else {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] ?? '').trim();
      if (line === '') continue;
      try {
        items.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      } catch (err) {
        return { error: `line ${i + 1}: not JSON: ${message(err)}` };
      }
    }
  }
  if (items.length === 0) return { error: 'no users: the array is empty' };
  if (items.length > MAX_USERS) return { error: `${items.length.toLocaleString('en-US')} users: at most ${MAX_USERS.toLocaleString('en-US')}` };
  const users: User[] = [];
  for (const { where, value } of items) {
    const problem = checkUser(value);
    if (problem) return { error: `${where}: ${problem}` };
    users.push(value as User);
  }
  return { users };
}

function checkUser(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a user must be a JSON object such as {"id": "user-1"}';
  const user = value as Record<string, unknown>;
  if (typeof user.id !== 'string' || user.id === '') return 'id: must be a non-empty string';
  for (const field of ['email', 'country'] as const) {
    const v = user[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return `${field}: must be a string or null`;
  }
  const attributes = user.attributes;
  if (attributes !== undefined && (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes))) {
    return 'attributes: must be a JSON object';
  }
  return null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
