import { IncomingMessage, ServerResponse } from 'node:http';
import { delayUnlessClosed, JsonHttpServer, readBody, sendJson } from './json-http-server';

/** What the stand-in does instead of answering normally. */
export type UpstashFault =
  | { kind: 'rate_limit'; retryAfterSeconds?: number }
  /** The plan's daily request quota is used up (the free plan: 10,000 queries, 10,000 updates). */
  | { kind: 'daily_quota' }
  | { kind: 'server_error' }
  /** 503 Service Unavailable, as during an outage. */
  | { kind: 'unavailable' }
  | { kind: 'slow'; ms: number };

/** The HTTP method Upstash documents per command; the official SDK POSTs every one. */
const DOCUMENTED_METHOD: Record<string, string> = { info: 'GET', delete: 'DELETE' };

/** Raised for a vector of the wrong size: Upstash answers 422 Unprocessable Entity. */
class DimensionMismatch extends Error {}

interface StoredVector {
  vector: number[];
  metadata?: unknown;
  /** Epoch ms from which queries see it (Upstash indexes upserts eventually). */
  visibleAt: number;
}

interface UpsertBody {
  id: string | number;
  vector: number[];
  metadata?: unknown;
}

interface QueryBody {
  vector: number[];
  topK: number;
  includeVectors?: boolean;
  includeMetadata?: boolean;
}

/**
 * A local stand-in for the Upstash Vector REST API (the subset the adapter uses). Every call
 * carries `Authorization: Bearer {token}` and answers `{ result }` (or `{ error }`): POST
 * `upsert`, `query`, `fetch`, `range`, DELETE `delete` (each also as `{command}/{namespace}`)
 * and GET `info` (POST also accepted, as the official SDK sends it). A vector of the wrong
 * size answers 422. Scores are cosine mapped to `(1 + cos) / 2`, as Upstash reports them.
 * `visibilityDelayMs` makes an upsert queryable only after that long.
 */
export class UpstashStandIn extends JsonHttpServer {
  /** Paths of all requests, in order (e.g. `/query/centroids`). */
  readonly paths: string[] = [];
  /** Method and path of all requests, in order (e.g. `GET /info`). */
  readonly calls: string[] = [];
  visibilityDelayMs = 0;
  private readonly namespaces = new Map<string, Map<string, StoredVector>>();
  private readonly faults: Array<{ fault: UpstashFault; remaining: number }> = [];

  constructor(
    readonly dimension: number,
    readonly token = 'test-upstash-token',
    private readonly similarityFunction = 'COSINE',
  ) {
    super();
  }

  /** The next `times` requests meet `fault`; `Infinity` for an outage. */
  inject(fault: UpstashFault, times = 1): void {
    this.faults.push({ fault, remaining: times });
  }

  /** Ends an outage: requests are answered normally again. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Ids stored in a namespace, visible or not. */
  ids(namespace: string): string[] {
    return [...this.space(namespace).keys()];
  }

  vectorOf(namespace: string, id: string): number[] | undefined {
    return this.space(namespace).get(id)?.vector;
  }

  private space(namespace: string): Map<string, StoredVector> {
    let space = this.namespaces.get(namespace);
    if (!space) {
      space = new Map();
      this.namespaces.set(namespace, space);
    }
    return space;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '';
    this.paths.push(path);
    this.calls.push(`${req.method} ${path}`);
    const raw = await readBody(req);
    const [, command, namespace = ''] = /^\/([a-z-]+)(?:\/([^/?]+))?/.exec(path) ?? [];
    const method = DOCUMENTED_METHOD[command] ?? 'POST';
    if (req.method !== method && req.method !== 'POST') {
      return sendJson(res, 405, { error: `${command} takes ${method}` });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return sendJson(res, 401, { error: 'Unauthorized: Invalid auth token' });
    }
    const fault = this.takeFault();
    if (fault?.kind === 'rate_limit') {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined
          ? {}
          : { 'retry-after': String(fault.retryAfterSeconds) };
      return sendJson(res, 429, { error: 'Exceeded max requests per second' }, headers);
    }
    if (fault?.kind === 'daily_quota') {
      return sendJson(res, 429, { error: 'ERR max daily request limit exceeded. Limit: 10000' });
    }
    if (fault?.kind === 'server_error')
      return sendJson(res, 500, { error: 'Internal server error' });
    if (fault?.kind === 'unavailable') return sendJson(res, 503, { error: 'Service Unavailable' });
    if (fault?.kind === 'slow') {
      if (!(await delayUnlessClosed(res, fault.ms))) return;
    }

    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return sendJson(res, 400, { error: 'Invalid JSON' });
    }
    const space = this.space(namespace);
    try {
      switch (command) {
        case 'upsert':
          return sendJson(res, 200, { result: this.upsert(space, body) });
        case 'query':
          return sendJson(res, 200, { result: this.query(space, body) });
        case 'fetch':
          return sendJson(res, 200, { result: this.fetch(space, body) });
        case 'delete':
          return sendJson(res, 200, { result: this.remove(space, body) });
        case 'range':
          return sendJson(res, 200, { result: this.range(space, body) });
        case 'info':
          return sendJson(res, 200, { result: this.info() });
        default:
          return sendJson(res, 404, { error: `unknown command ${command}` });
      }
    } catch (error) {
      const status = error instanceof DimensionMismatch ? 422 : 400;
      return sendJson(res, status, { error: (error as Error).message });
    }
  }

  private takeFault(): UpstashFault | undefined {
    const queued = this.faults[0];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.faults.shift();
    return queued.fault;
  }

  private checkDimension(vector: unknown): number[] {
    if (!Array.isArray(vector) || vector.length !== this.dimension) {
      throw new DimensionMismatch(
        `Invalid vector dimension: ${Array.isArray(vector) ? vector.length : 0}, expected: ${this.dimension}`,
      );
    }
    return vector as number[];
  }

  private upsert(space: Map<string, StoredVector>, body: unknown): string {
    const entries = (Array.isArray(body) ? body : [body]) as UpsertBody[];
    const visibleAt = Date.now() + this.visibilityDelayMs;
    for (const entry of entries) {
      space.set(String(entry.id), {
        vector: this.checkDimension(entry.vector),
        metadata: entry.metadata,
        visibleAt,
      });
    }
    return 'Success';
  }

  private query(space: Map<string, StoredVector>, body: unknown) {
    const run = (q: QueryBody) => {
      const vector = this.checkDimension(q.vector);
      const now = Date.now();
      return [...space.entries()]
        .filter(([, stored]) => stored.visibleAt <= now)
        .map(([id, stored]) => ({
          id,
          score: (1 + cosine(vector, stored.vector)) / 2,
          ...(q.includeVectors ? { vector: stored.vector } : {}),
          ...(q.includeMetadata ? { metadata: stored.metadata } : {}),
        }))
        .sort((a, b) => b.score - a.score)
        .slice(0, q.topK);
    };
    return Array.isArray(body) ? (body as QueryBody[]).map(run) : run(body as QueryBody);
  }

  private fetch(space: Map<string, StoredVector>, body: unknown) {
    const { ids = [], includeVectors } = body as { ids?: string[]; includeVectors?: boolean };
    return ids.map((id) => {
      const stored = space.get(String(id));
      return stored ? { id, ...(includeVectors ? { vector: stored.vector } : {}) } : null;
    });
  }

  private remove(space: Map<string, StoredVector>, body: unknown) {
    const ids = Array.isArray(body) ? body : ((body as { ids?: unknown[] }).ids ?? []);
    let deleted = 0;
    for (const id of ids) if (space.delete(String(id))) deleted++;
    return { deleted };
  }

  private range(space: Map<string, StoredVector>, body: unknown) {
    const { cursor, limit, includeVectors } = body as {
      cursor: string | number;
      limit: number;
      includeVectors?: boolean;
    };
    const ids = [...space.keys()].sort();
    const start = Number(cursor || 0);
    const page = ids.slice(start, start + limit);
    return {
      nextCursor: start + limit < ids.length ? String(start + limit) : '',
      vectors: page.map((id) => ({
        id,
        ...(includeVectors ? { vector: space.get(id)?.vector } : {}),
      })),
    };
  }

  private info() {
    const now = Date.now();
    const namespaces: Record<string, { vectorCount: number; pendingVectorCount: number }> = {};
    let vectorCount = 0;
    let pendingVectorCount = 0;
    for (const [name, space] of this.namespaces) {
      const pending = [...space.values()].filter((v) => v.visibleAt > now).length;
      namespaces[name] = { vectorCount: space.size - pending, pendingVectorCount: pending };
      vectorCount += space.size - pending;
      pendingVectorCount += pending;
    }
    return {
      vectorCount,
      pendingVectorCount,
      indexSize: vectorCount * this.dimension * 4,
      dimension: this.dimension,
      similarityFunction: this.similarityFunction,
      namespaces,
    };
  }
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
