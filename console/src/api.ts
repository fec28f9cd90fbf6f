// The admin API (docs/api.md), as the console calls it: same origin, the token as a Bearer header.
import type { Environment, SnapshotData, User } from '@pennon/evaluator';

export type { Environment };
export type Role = 'admin' | 'editor' | 'viewer' | 'server' | 'client';
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Identity {
  id: string;
  name: string;
  role: Role;
  environments: Environment[];
}

export interface Flag {
  id: string;
  key: string;
  description: string;
  enabled: boolean;
  type?: string;
  variants?: JsonObject;
  offVariant?: string;
  prerequisites?: Json[];
  rules: Json[];
  rolloutPercentage?: number;
  fallthrough?: Json;
  environment: Environment;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Usage {
  last24h: Record<string, number>;
  windowStart: string;
  lastEvaluatedAt: string | null;
}

export interface AuditEntry {
  id: string;
  action: string;
  entity: string;
  entityId: string;
  before: JsonObject | null;
  after: JsonObject | null;
  actor: string;
  actorTokenId: string | null;
  note: string | null;
  environment: Environment | null;
  createdAt: string;
}

export interface Segment {
  id: string;
  key: string;
  description: string;
  include: string[];
  rules: Json[];
  environment: Environment;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The fields of a flag an update may send (docs/api.md, `PUT /api/admin/flags/{id}`). */
export const WRITABLE = [
  'description',
  'enabled',
  'type',
  'variants',
  'offVariant',
  'prerequisites',
  'rules',
  'rolloutPercentage',
  'fallthrough',
] as const;

export const ENVIRONMENTS: readonly Environment[] = ['dev', 'staging', 'prod'];

/** An answer other than 2xx: its status and the server's `{"error"}` message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }

  /** The field a 400 names: its message starts with the field's path (`rules[1].operator: …`). */
  get field(): string | null {
    if (this.status !== 400) return null;
    const match = /^([A-Za-z0-9_.\-[\]"]+): /.exec(this.message);
    return match?.[1] ?? null;
  }

  /** The top-level field the path starts with: `rules` for `rules[1].all[0].value`. */
  get topField(): string | null {
    const field = this.field;
    return field === null ? null : (/^[A-Za-z0-9_-]+/.exec(field)?.[0] ?? null);
  }
}

/**
 * No answer from the origin (it is down, restarting, or the network is): the request may not
 * have reached it. Its string is its message, so a view that shows `String(err)` reads well.
 */
export class OriginUnreachable extends Error {
  constructor() {
    super('The origin did not answer (it is down or out of reach): nothing was saved. What you typed is kept; try again once it answers.');
    this.name = 'OriginUnreachable';
  }

  override toString(): string {
    return this.message;
  }
}

export class Api {
  /**
   * `onUnauthorized`: told of every 401 (the token was revoked, or is unknown to the origin), so
   * that the console can ask for a token again without leaving the page.
   */
  constructor(
    private token: string,
    private readonly onUnauthorized?: () => void,
  ) {}

  /** Goes on with another token (signed in again after a 401): the views keep this Api. */
  setToken(token: string): void {
    this.token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown, ifMatch?: number): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = String(ifMatch);
    const init: RequestInit = { method, headers, cache: 'no-store' };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res: Response;
    let text: string;
    try {
      res = await fetch(path, init);
      text = await res.text();
    } catch {
      throw new OriginUnreachable();
    }
    if (res.status === 401) this.onUnauthorized?.();
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        if (typeof parsed.error === 'string') message = parsed.error;
      } catch {
        // not JSON: keep the status line
      }
      throw new ApiError(res.status, message);
    }
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  whoami(): Promise<{ token: Identity }> {
    return this.call('GET', '/api/admin/whoami');
  }

  listFlags(params: { environment?: Environment; key?: string; usage?: boolean }) {
    const query = new URLSearchParams();
    if (params.environment) query.set('environment', params.environment);
    if (params.key) query.set('key', params.key);
    if (params.usage) query.set('include', 'usage');
    return this.call<{ flags: Flag[]; usage?: Record<string, Usage> }>('GET', `/api/admin/flags?${query}`);
  }

  getFlag(id: string) {
    return this.call<{ flag: Flag; usage: Usage }>('GET', `/api/admin/flags/${encodeURIComponent(id)}`);
  }

  createFlag(body: JsonObject) {
    return this.call<{ flag: Flag }>('POST', '/api/admin/flags', body);
  }

  updateFlag(id: string, body: JsonObject, version: number) {
    return this.call<{ flag: Flag }>('PUT', `/api/admin/flags/${encodeURIComponent(id)}`, body, version);
  }

  deleteFlag(id: string, version: number) {
    return this.call<null>('DELETE', `/api/admin/flags/${encodeURIComponent(id)}`, undefined, version);
  }

  killSwitch(key: string) {
    return this.call<{ flags: Flag[] }>('POST', '/api/admin/kill-switch', { key });
  }

  audit(params: { entityId?: string; before?: string; limit?: number }) {
    const query = new URLSearchParams();
    if (params.entityId) query.set('entityId', params.entityId);
    if (params.before) query.set('before', params.before);
    query.set('limit', String(params.limit ?? 50));
    return this.call<{ entries: AuditEntry[]; nextCursor?: string }>('GET', `/api/admin/audit?${query}`);
  }

  listSegments(environment: Environment) {
    return this.call<{ segments: Segment[] }>('GET', `/api/admin/segments?environment=${environment}`);
  }

  getSegment(id: string) {
    return this.call<{ segment: Segment }>('GET', `/api/admin/segments/${encodeURIComponent(id)}`);
  }

  createSegment(body: JsonObject) {
    return this.call<{ segment: Segment }>('POST', '/api/admin/segments', body);
  }

  updateSegment(id: string, body: JsonObject, version: number) {
    return this.call<{ segment: Segment }>('PUT', `/api/admin/segments/${encodeURIComponent(id)}`, body, version);
  }

  deleteSegment(id: string, version: number) {
    return this.call<null>('DELETE', `/api/admin/segments/${encodeURIComponent(id)}`, undefined, version);
  }

  /** The origin's recent evaluation contexts (404 when it keeps none; editors and admins only). */
  contexts(environment: Environment) {
    return this.call<{ environment: Environment; size: number; contexts: { user: User; seenAt: string }[] }>(
      'GET',
      `/api/admin/contexts?environment=${environment}`,
    );
  }

  snapshot(environment: Environment) {
    return this.call<SnapshotData>('GET', `/api/flags/snapshot?environment=${environment}`);
  }
}

/** What the token may do, as docs/access.md's table has it. */
export function canRead(who: Identity): boolean {
  return who.role === 'admin' || who.role === 'editor' || who.role === 'viewer';
}

export function canWrite(who: Identity, environment?: Environment): boolean {
  if (who.role !== 'admin' && who.role !== 'editor') return false;
  return environment === undefined || who.environments.includes(environment);
}

/** The writable part of a flag, in the order the origin answers it. */
export function definitionOf(flag: Flag): JsonObject {
  const out: JsonObject = {};
  for (const field of WRITABLE) {
    if (field === 'description' || field === 'enabled') continue;
    const value = (flag as unknown as Record<string, Json | undefined>)[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}
