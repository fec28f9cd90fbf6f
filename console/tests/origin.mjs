// A real origin for the console's tests: the binary (ORIGIN_BIN, else target/debug/origin) on a
// free port with a temporary SQLite database and a known ADMIN_TOKEN, and a small API client.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADMIN_TOKEN = 'console-test-admin-token-0123456789abcdef';

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** `env`: more variables for the origin, e.g. `{CONTEXT_SAMPLE_SIZE: '1000'}`. */
export async function startOrigin(binary, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-console-'));
  const port = await freePort();
  const child = spawn(binary, [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_TOKEN,
      DATABASE_URL: `sqlite://${join(dir, 'pennon.db')}`,
      USAGE_FLUSH_SECONDS: '1',
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the origin did not start in 60 s:\n${output}`)), 60_000);
    const read = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the origin exited with ${code}:\n${output}`)));
  });
  const call = async (method, path, { token = ADMIN_TOKEN, body, ifMatch } = {}) => {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = String(ifMatch);
    const res = await fetch(new URL(path, url), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text), text };
  };
  /** Each user's variant of each key in `environment`, as the origin serves them now: `{key: [variant per user]}`. */
  const served = async (environment, users, keys) => {
    const out = Object.fromEntries(keys.map((k) => [k, []]));
    for (const user of users) {
      const res = await call('POST', '/api/evaluate', { body: { environment, user, flags: keys } });
      if (res.status !== 200) throw new Error(`POST /api/evaluate answered ${res.status}: ${res.text}`);
      for (const r of res.body.results) out[r.flagKey].push(r.variant);
    }
    return out;
  };
  return {
    url: url.endsWith('/') ? url : `${url}/`,
    call,
    served,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
