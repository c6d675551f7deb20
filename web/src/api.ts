// The console's only way to the service: the public GraphQL endpoint over
// HTTP and graphql-ws (graphql-transport-ws) for subscriptions, with the
// signed-in bearer token, exactly as any other client would use them.
import { createClient, type Client } from 'graphql-ws';

const TOKEN_KEY = 'analytics.console.token';

export type Role = 'VIEWER' | 'ANALYST' | 'ADMIN';
const RANK: Record<Role, number> = { VIEWER: 1, ANALYST: 2, ADMIN: 3 };

export interface ViewerInfo {
  subject: string;
  tenant: string;
  roles: Role[];
}

/** An error the API returned, with its extensions (code, field, line, column…). */
export class ApiError extends Error {
  code: string;
  extensions: Record<string, unknown>;
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.extensions = extensions;
    this.code = String(extensions.code ?? 'ERROR');
  }
}

export function token(): string {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(t: string): void {
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
  resetSubscriptions();
}

export function highestRole(roles: Role[]): Role {
  return roles.reduce<Role>((best, r) => (RANK[r] > RANK[best] ? r : best), 'VIEWER');
}

export function atLeast(roles: Role[], need: Role): boolean {
  return roles.some((r) => RANK[r] >= RANK[need]);
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

function firstError(errors: GraphQLResponse<unknown>['errors']): ApiError {
  const e = errors![0];
  return new ApiError(e.message, e.extensions ?? {});
}

/** Runs one query or mutation; any GraphQL error is thrown as ApiError. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let res: Response;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (err) {
    throw new ApiError(`the server cannot be reached: ${(err as Error).message}`, { code: 'NETWORK' });
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    throw new ApiError(`the server answered ${res.status} without a GraphQL body`, { code: 'HTTP_' + res.status });
  }
  if (body.errors?.length) throw firstError(body.errors);
  if (!body.data) throw new ApiError(`the server answered ${res.status} without data`, { code: 'HTTP_' + res.status });
  return body.data;
}

export type LiveState = 'idle' | 'connecting' | 'live' | 'offline';
type LiveListener = (s: LiveState) => void;

let client: Client | null = null;
const liveListeners = new Set<LiveListener>();
let liveState: LiveState = 'idle';
let active = 0; // subscriptions running

function setLive(s: LiveState): void {
  liveState = s;
  liveListeners.forEach((l) => l(s));
}

/** Follows the WebSocket's state; returns the unsubscribe function. */
export function onLiveState(l: LiveListener): () => void {
  liveListeners.add(l);
  l(liveState);
  return () => liveListeners.delete(l);
}

function ws(): Client {
  if (client) return client;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    lazy: true,
    keepAlive: 15_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    on: {
      connecting: () => setLive('connecting'),
      connected: () => setLive('live'),
      // Lazy: the socket closes when the last subscription stops (idle);
      // a close with subscriptions running is an outage (offline, retried).
      closed: () => setLive(active > 0 ? 'offline' : 'idle'),
    },
  });
  return client;
}

function resetSubscriptions(): void {
  if (client) void client.dispose();
  client = null;
  active = 0;
  setLive('idle');
}

/**
 * Subscribes over graphql-ws; onData gets every pushed value. Errors of the
 * operation go to onError. Returns the function that stops it.
 */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (d: T) => void,
  onError: (e: ApiError) => void,
): () => void {
  active++;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      active--;
    }
  };
  const stop = ws().subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        if (r.errors?.length) onError(firstError(r.errors as GraphQLResponse<T>['errors']));
        else if (r.data) onData(r.data as T);
      },
      error: (err) => {
        finish();
        if (Array.isArray(err)) onError(firstError(err as GraphQLResponse<T>['errors']));
        else if (err instanceof Error) onError(new ApiError(err.message, { code: 'NETWORK' }));
        else onError(new ApiError('the live connection closed', { code: 'NETWORK' }));
      },
      complete: finish,
    },
  );
  return () => {
    finish();
    stop();
  };
}
