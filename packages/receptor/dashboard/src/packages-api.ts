/**
 * The package service (`diego packages`, Cosmos's API) as the Packages view calls it: from this page's origin (the
 * receptor's) to the service's, with its own `receptor_authorization` cookie (path /package, set by
 * POST /package/auth_cookie when the user signs in) and `X-Requested-With`, the marker it requires before it counts
 * the cookie (README "Dashboard"). The service answers these requests with credentials only for the origins of its
 * `--dashboardOrigins`; for any other the browser keeps the answer from the page, which says so.
 */
import { ApiFailure, basicAuthorization, failureOf, send } from './api.js';
import type { RepositoryStatus, UniversePackage } from '@diego/package-service';

export type { RepositoryStatus, UniversePackage };

// ---- Cosmos's answers (README "Packages") ----

export interface Repository {
  name: string;
  uri: string;
  status: RepositoryStatus;
}

export interface RepositoryList {
  repositories: Repository[];
}

export interface SearchResult {
  name: string;
  currentVersion: string;
  /** version → releaseVersion */
  versions: Record<string, string>;
  description: string;
  tags: string[];
  repository: string;
}

export interface SearchAnswer {
  packages: SearchResult[];
  /** Repositories searched from an older copy, or not at all: their status says why. */
  repositories?: Repository[];
}

export interface DescribeAnswer {
  package: UniversePackage;
  repository: { name: string; uri: string };
}

export interface InstallAnswer {
  packageName: string;
  packageVersion: string;
  appId: string;
  postInstallNotes?: string;
}

export interface InstalledPackage {
  appId: string;
  packageInformation: {
    packageDefinition: { name: string; version: string; releaseVersion: number; repository: string; description?: string };
  };
}

export interface InstalledList {
  packages: InstalledPackage[];
}

export interface UninstallAnswer {
  results: Array<{ packageName: string; appId: string; packageVersion: string; postUninstallNotes?: string }>;
}

/** Why a request never got an answer the page may read. */
function unreachable(url: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  return new Error(
    `The package service at ${url} cannot be reached from this page (${reason}): it is not running there, or it does not ` +
    `let this page's origin (${location.origin}) in: its --dashboardOrigins must name it (diego up names the dashboard URL it prints).`,
  );
}

export class PackageService {
  constructor(readonly url: string) {}

  /** One Cosmos route: POST of JSON, the answer in plain JSON. */
  async call<T>(path: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await send('POST', `${this.url}${path}`, { body: JSON.stringify(body), credentials: 'include', headers: { Accept: 'application/json' } });
    } catch (err) {
      if (err instanceof ApiFailure) throw err;
      throw unreachable(this.url, err);
    }
    const value: unknown = await response.json();
    return value as T;
  }

  /**
   * Hands the credentials the user just gave the receptor to the service, which keeps them as its own HttpOnly cookie
   * (the receptor's is for /v1, which the browser never sends here). Not through `send`: a refusal here is no
   * reason to ask again, it is shown.
   */
  async signIn(username: string, password: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/package/auth_cookie`, {
        method: 'POST',
        credentials: 'include',
        cache: 'no-store',
        headers: { Authorization: basicAuthorization(username, password), 'X-Requested-With': 'XMLHttpRequest' },
      });
    } catch (err) {
      throw unreachable(this.url, err);
    }
    if (response.status === 401) throw new Error(`The package service at ${this.url} does not accept these credentials: its Packages view cannot be used`);
    if (!response.ok) throw await failureOf(response);
  }
}
