// The package's verification of signed snapshots (`Evaluator.verified`): the happy path, a tampered
// snapshot (another body, another signature), a replayed older one, an expired one, and the other
// refusals, each with its reason and the message docs/signing.md lists. Run in Node and in Chromium
// with the fixtures of signature-fixtures.mjs (made in Node). Each case's `run` is async.

function check(ok, message) {
  if (!ok) throw new Error(message);
}

/** Resolves when `promise` rejects with a SignatureError of `reason` (and `message`, when given). */
async function refused(api, promise, reason, message) {
  let error;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  check(error !== undefined, `expected a refusal (${reason}), got an Evaluator`);
  check(error instanceof api.SignatureError && error instanceof Error, `not a SignatureError: ${error?.stack ?? error}`);
  check(error.reason === reason, `reason ${error.reason}, expected ${reason}: ${error.message}`);
  if (message !== undefined) check(error.message === message, `message ${JSON.stringify(error.message)}, expected ${JSON.stringify(message)}`);
}

async function rejectsWith(promise, type, pattern) {
  let error;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  check(error instanceof type && pattern.test(error.message), `expected ${type.name} ${pattern}, got ${error?.stack ?? error}`);
}

export function signatureCases(api, f) {
  const { Evaluator } = api;
  const options = { publicKeys: [f.publicKey], environment: 'prod', minVersion: 5, now: f.now };
  const user = { id: 'user-1' };
  return [
    {
      name: 'signatures: a snapshot signed with a configured key installs (text or bytes, one of two keys)',
      run: async () => {
        const evaluator = await Evaluator.verified(f.body, f.header, options);
        check(evaluator instanceof Evaluator, 'an Evaluator');
        check(evaluator.revision === 5 && evaluator.environment === 'prod', `revision ${evaluator.revision}`);
        const [result] = evaluator.evaluate(user);
        check(result.flagKey === 'signed-flag' && result.enabled === true, JSON.stringify(result));
        evaluator.free();
        // The body's bytes (a Uint8Array, an ArrayBuffer), two keys during a rotation, a
        // comma-separated list, a JWK set; no environment or minVersion asked.
        const bytes = new TextEncoder().encode(f.body);
        for (const [body, publicKeys] of [
          [bytes, [f.otherPublicKey, f.publicKey]],
          [bytes.slice().buffer, `${f.otherPublicKey}, ${f.publicKey}`],
          [f.body, { keys: [{ kty: 'OKP', crv: 'Ed25519', x: f.publicKey }] }],
        ]) {
          const e = await Evaluator.verified(body, f.header, { publicKeys, now: new Date(f.now) });
          check(e.revision === 5, 'installed');
          e.free();
        }
      },
    },
    {
      name: 'signatures: a tampered body is refused (bad signature)',
      run: () => refused(api, Evaluator.verified(f.tamperedBody, f.header, options), 'bad-signature',
        'bad signature: it does not verify over the body with its key (tampered or truncated)'),
    },
    {
      name: 'signatures: a signature by another key under this key id is refused (bad signature)',
      run: () => refused(api, Evaluator.verified(f.body, f.wrongSignatureHeader, options), 'bad-signature'),
    },
    {
      name: 'signatures: a header edited after signing (another version) is refused (bad signature)',
      run: () => refused(api, Evaluator.verified(f.body, f.header.replace('version=5', 'version=6'), options), 'bad-signature'),
    },
    {
      name: 'signatures: a replayed older snapshot is refused (lower version)',
      run: async () => {
        await refused(api, Evaluator.verified(f.olderBody, f.olderHeader, options), 'lower-version',
          'lower version: signed version 4 is below version 5 already held');
        // Without a version held, the same snapshot installs.
        const e = await Evaluator.verified(f.olderBody, f.olderHeader, { ...options, minVersion: undefined });
        check(e.revision === 4, 'installs without minVersion');
        e.free();
      },
    },
    {
      name: 'signatures: an expired signature is refused (expired)',
      run: async () => {
        await refused(api, Evaluator.verified(f.body, f.expiredHeader, options), 'expired',
          `expired: the signature expired at ${f.expiredAt} (now ${f.now}, ms since the epoch)`);
        const e = await Evaluator.verified(f.body, f.expiredHeader, { ...options, now: f.expiredAt });
        check(e.revision === 5, 'valid up to its expiry, inclusive');
        e.free();
      },
    },
    {
      name: 'signatures: a snapshot of another environment is refused (other environment)',
      run: () => refused(api, Evaluator.verified(f.devBody, f.devHeader, options), 'other-environment',
        'other environment: signed for dev, expected prod'),
    },
    {
      name: 'signatures: an unknown key, no header, a malformed header',
      run: async () => {
        const kid = /key=([0-9a-f]{16})/.exec(f.header)[1];
        await refused(api, Evaluator.verified(f.body, f.header, { ...options, publicKeys: [f.otherPublicKey] }),
          'unknown-key', `unknown key: ${kid} is not a configured key`);
        await refused(api, Evaluator.verified(f.body, null, options), 'unsigned',
          'unsigned snapshot: no pennon-signature header');
        await refused(api, Evaluator.verified(f.body, f.header.replace('v1;', 'v2;'), options), 'malformed',
          'malformed signature: the signature header is not v1');
        await refused(api, Evaluator.verified(f.body, f.header.replace(/; sig=[^;]*/, ''), options), 'malformed',
          'malformed signature: the signature header has no sig');
      },
    },
    {
      name: 'signatures: unusable options throw a TypeError naming the option',
      run: async () => {
        await rejectsWith(Evaluator.verified(f.body, f.header, {}), TypeError, /options\.publicKeys/);
        await rejectsWith(Evaluator.verified(f.body, f.header, { publicKeys: ['abc'] }), TypeError, /options\.publicKeys\[0\]/);
        await rejectsWith(Evaluator.verified(f.body, f.header, { ...options, now: 'today' }), TypeError, /options\.now/);
        await rejectsWith(Evaluator.verified(42, f.header, options), TypeError, /body/);
      },
    },
  ];
}
