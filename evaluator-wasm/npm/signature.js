// Verification of signed snapshots (docs/signing.md): the `Pennon-Signature` header read as
// http-contract/src/signature.rs reads it, the signed message laid out as the origin signs it, and
// the Ed25519 signature checked with Web Crypto (`crypto.subtle`), not in the wasm: the package's
// wasm stays within its size budget, and Node 18.4+ and current browsers all have Ed25519.

/** The first line of every signed message (domain separation). */
const DOMAIN = 'pennon-snapshot-v1';
const KEY_ID = /^[0-9a-f]{16}$/;
const ENVIRONMENT = /^[a-z0-9_-]{1,32}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

let subtleOverride;

/** Node's entry point hands over `webcrypto.subtle` (Node 18 has no global `crypto`). */
export function useSubtle(subtle) {
  subtleOverride = subtle;
}

function subtle() {
  const found = subtleOverride ?? globalThis.crypto?.subtle;
  if (!found) {
    throw new Error(
      'verifying a snapshot needs Web Crypto (crypto.subtle), which this runtime lacks (in a browser: a secure context, https or localhost)',
    );
  }
  return found;
}

/**
 * Why a snapshot was refused: `reason` is one of 'unsigned', 'malformed', 'unknown-key',
 * 'bad-signature', 'other-environment', 'lower-version', 'expired', 'version-mismatch'; the message
 * is the edge worker's text for the same refusal.
 */
export class SignatureError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'SignatureError';
    this.reason = reason;
  }
}

const malformed = (why) => new SignatureError('malformed', `malformed signature: ${why}`);

function decodeBase64(text) {
  const normalized = String(text).trim().replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*$/.test(normalized) || normalized.length % 4 === 1) return undefined;
  let binary;
  try {
    binary = atob(normalized + '='.repeat((4 - (normalized.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The header's fields, or a 'malformed' SignatureError naming what is wrong. */
export function parseSignature(header) {
  const items = String(header).split(';').map((item) => item.trim());
  if (items[0] !== 'v1') throw malformed('the signature header is not v1');
  const fields = new Map();
  for (const item of items.slice(1)) {
    const at = item.indexOf('=');
    if (at < 0) {
      throw malformed('the signature header is malformed (items `name=value` separated by `;`, each once)');
    }
    const name = item.slice(0, at).trim();
    if (!['key', 'env', 'version', 'issued', 'expires', 'sig'].includes(name)) continue;
    if (fields.has(name)) {
      throw malformed('the signature header is malformed (items `name=value` separated by `;`, each once)');
    }
    fields.set(name, item.slice(at + 1).trim());
  }
  const field = (name, valid) => {
    const value = fields.get(name);
    if (value === undefined) throw malformed(`the signature header has no ${name}`);
    if (!valid(value)) throw malformed(`the signature header's ${name} is invalid`);
    return value;
  };
  const number = (name) =>
    Number(field(name, (v) => DECIMAL.test(v) && Number.isSafeInteger(Number(v))));
  const keyId = field('key', (v) => KEY_ID.test(v));
  const environment = field('env', (v) => ENVIRONMENT.test(v));
  const version = number('version');
  const issuedMs = number('issued');
  const expiresMs = number('expires');
  if (expiresMs < issuedMs) throw malformed("the signature header's expires is invalid");
  const signature = decodeBase64(field('sig', () => true));
  if (signature === undefined || signature.length !== 64) {
    throw malformed("the signature header's sig is invalid");
  }
  return { keyId, environment, version, issuedMs, expiresMs, signature };
}

/** The signed message: the preamble, then the body's bytes. */
export function signedMessage(fields, body) {
  const { environment, version, issuedMs, expiresMs } = fields;
  const preamble = new TextEncoder().encode(
    `${DOMAIN}\n${environment}\n${version}\n${issuedMs}\n${expiresMs}\n`,
  );
  const message = new Uint8Array(preamble.length + body.length);
  message.set(preamble, 0);
  message.set(body, preamble.length);
  return message;
}

function bodyBytes(body) {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('the snapshot body must be a string, an ArrayBuffer or a Uint8Array');
}

/** Each configured key as raw bytes: base64 / base64url strings (a comma-separated list too), JWKs, or a JWK set. */
function rawKeys(publicKeys) {
  let list = publicKeys;
  if (typeof list === 'string') list = list.split(',').map((k) => k.trim()).filter((k) => k !== '');
  else if (list && !Array.isArray(list) && Array.isArray(list.keys)) list = list.keys;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('options.publicKeys must name at least one Ed25519 public key');
  }
  return list.map((key, i) => {
    const text = typeof key === 'string' ? key : key?.x;
    const raw = typeof text === 'string' ? decodeBase64(text) : undefined;
    if (raw === undefined || raw.length !== 32) {
      throw new TypeError(`options.publicKeys[${i}] is not a 32-byte Ed25519 public key in base64url`);
    }
    return raw;
  });
}

async function keyIdOf(subtleCrypto, raw) {
  const digest = new Uint8Array(await subtleCrypto.digest('SHA-256', raw));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  const ms = now instanceof Date ? now.getTime() : now;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new TypeError('options.now must be a Date or milliseconds since the epoch');
  }
  return ms;
}

/**
 * Verifies `body` against `header` and returns the parsed snapshot; throws a SignatureError naming
 * the reason, or a TypeError for options that are not usable.
 */
export async function verifySnapshot(body, header, options) {
  const { publicKeys, environment, minVersion, now } = options ?? {};
  const keys = rawKeys(publicKeys);
  const at = nowMs(now);
  if (minVersion !== undefined && minVersion !== null && !Number.isSafeInteger(minVersion)) {
    throw new TypeError('options.minVersion must be a whole number');
  }
  const bytes = bodyBytes(body);
  if (header === undefined || header === null || header === '') {
    throw new SignatureError('unsigned', 'unsigned snapshot: no pennon-signature header');
  }
  const fields = parseSignature(header);
  const crypto = subtle();
  let raw;
  for (const candidate of keys) {
    if ((await keyIdOf(crypto, candidate)) === fields.keyId) raw = candidate;
  }
  if (raw === undefined) {
    throw new SignatureError('unknown-key', `unknown key: ${fields.keyId} is not a configured key`);
  }
  let key;
  try {
    key = await crypto.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    throw new TypeError(`the public key ${fields.keyId} cannot be used for Ed25519: ${err?.message ?? err}`);
  }
  let valid;
  try {
    valid = await crypto.verify({ name: 'Ed25519' }, key, fields.signature, signedMessage(fields, bytes));
  } catch {
    valid = false; // a signature that is not even a curve point: as bad as a wrong one
  }
  if (!valid) {
    throw new SignatureError(
      'bad-signature',
      'bad signature: it does not verify over the body with its key (tampered or truncated)',
    );
  }
  if (environment !== undefined && environment !== null && fields.environment !== environment) {
    throw new SignatureError(
      'other-environment',
      `other environment: signed for ${fields.environment}, expected ${environment}`,
    );
  }
  if (minVersion !== undefined && minVersion !== null && fields.version < minVersion) {
    throw new SignatureError(
      'lower-version',
      `lower version: signed version ${fields.version} is below version ${minVersion} already held`,
    );
  }
  if (at > fields.expiresMs) {
    throw new SignatureError(
      'expired',
      `expired: the signature expired at ${fields.expiresMs} (now ${at}, ms since the epoch)`,
    );
  }
  const snapshot = JSON.parse(new TextDecoder().decode(bytes));
  if (snapshot?.revision !== fields.version) {
    throw new SignatureError(
      'version-mismatch',
      `version mismatch: signed version ${fields.version}, the body's revision is ${snapshot?.revision}`,
    );
  }
  if (snapshot.environment !== fields.environment) {
    throw new SignatureError(
      'other-environment',
      `other environment: signed for ${fields.environment}, the body is of ${snapshot.environment}`,
    );
  }
  return { snapshot, signature: fields };
}
