/**
 * A loopback HTTP proxy in front of a test registry that records what the store asked for, and can play a
 * registry with bearer-token auth (401 with a challenge naming its own /token realm) or one that corrupts
 * a blob on the way.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RegistryProxyOptions {
  /** Answer requests without `Authorization: Bearer <this>` with a 401 challenge; /token hands it out. */
  bearerToken?: string;
  /** Blob digests whose bodies are served with their first byte flipped. */
  corruptBlobs?: string[];
  /** Answer blob GETs with a 307 to the same path at this base URL, as registries send them to their storage. */
  redirectBlobsTo?: URL;
}

export class RegistryProxy {
  /** `METHOD path` of every request that reached the registry (not 401s, not /token). */
  readonly forwarded: string[] = [];
  /** Scopes asked of /token. */
  readonly tokenScopes: string[] = [];
  /** The Authorization header of each forwarded request, in the order of `forwarded` (null when absent). */
  readonly authorizations: Array<string | null> = [];
  private readonly server: Server;
  private port = 0;

  constructor(
    private readonly target: URL,
    private readonly options: RegistryProxyOptions = {},
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.port = address.port;
  }

  /** Requests for blobs (GET /v2/<repo>/blobs/<digest>), by digest. */
  blobFetches(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const line of this.forwarded) {
      const match = /^GET \/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(line);
      if (match !== null) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    }
    return counts;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const token = this.options.bearerToken;
    if (token !== undefined && path.startsWith('/token')) {
      this.tokenScopes.push(new URL(path, 'http://proxy').searchParams.get('scope') ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      res
        .writeHead(401, {
          'Content-Type': 'application/json',
          'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="test-registry",scope="repository:${/^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(path)?.[1] ?? ''}:pull"`,
        })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    this.forwarded.push(`${req.method ?? 'GET'} ${path}`);
    this.authorizations.push(req.headers.authorization ?? null);
    if (this.options.redirectBlobsTo !== undefined && /\/blobs\/sha256:/.test(path)) {
      res.writeHead(307, { Location: new URL(path, this.options.redirectBlobsTo).href }).end();
      return;
    }
    const corrupt = (this.options.corruptBlobs ?? []).some((digest) => path.endsWith(`/blobs/${digest}`));
    const upstream = request(
      new URL(path, this.target),
      { method: req.method, headers: { ...req.headers, host: this.target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let first = true;
        answer.on('data', (chunk: Buffer) => {
          if (corrupt && first && chunk.length > 0) chunk[0] = chunk[0]! ^ 0xff;
          first = false;
          res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
