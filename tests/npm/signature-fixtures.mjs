// Signed snapshots made in Node for the package's verification tests: node:crypto's Ed25519 and the
// message layout of docs/signing.md written out here, independently of the package and the origin
// (`pennon-snapshot-v1 LF env LF version LF issued LF expires LF` + the body's bytes; the key id the
// first 8 bytes of SHA-256 over the raw public key, in hex). JSON data, so that the Chromium page
// gets the same fixtures as Node.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  const kid = createHash('sha256').update(Buffer.from(x, 'base64url')).digest('hex').slice(0, 16);
  return { privateKey, x, kid };
}

function header(key, { environment, version, issued, expires }, body, kid = key.kid) {
  const message = Buffer.concat([
    Buffer.from(`pennon-snapshot-v1\n${environment}\n${version}\n${issued}\n${expires}\n`, 'utf8'),
    Buffer.from(body, 'utf8'),
  ]);
  const sig = sign(null, message, key.privateKey).toString('base64url');
  return `v1; key=${kid}; env=${environment}; version=${version}; issued=${issued}; expires=${expires}; sig=${sig}`;
}

function snapshotBody(environment, revision, enabled) {
  return JSON.stringify({
    environment,
    revision,
    flags: [{ key: 'signed-flag', environment, enabled, rolloutPercentage: 100 }],
    segments: [],
  });
}

export function signatureFixtures() {
  const current = keyPair();
  const other = keyPair();
  const issued = 1_764_200_000_000;
  const expires = issued + 86_400_000;
  const now = issued + 60_000;
  const fields = { environment: 'prod', version: 5, issued, expires };
  const body = snapshotBody('prod', 5, true);
  const older = snapshotBody('prod', 4, false);
  const dev = snapshotBody('dev', 9, true);
  const shortLived = { ...fields, expires: issued + 1_000 };
  return {
    publicKey: current.x,
    otherPublicKey: other.x,
    now,
    body,
    header: header(current, fields, body),
    // The body changed after signing: `"enabled":false`, same length.
    tamperedBody: body.replace('"enabled":true', '"enabled":fals'),
    // Signed by another key under this key's id.
    wrongSignatureHeader: header(other, fields, body, current.kid),
    // A validly signed snapshot, one version older than the one held.
    olderBody: older,
    olderHeader: header(current, { ...fields, version: 4 }, older),
    // Validly signed, but its signature expired 59 s before `now`.
    expiredHeader: header(current, shortLived, body),
    expiredAt: shortLived.expires,
    devBody: dev,
    devHeader: header(current, { ...fields, environment: 'dev', version: 9 }, dev),
  };
}
