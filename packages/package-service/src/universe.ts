/**
 * A repository's package index, read from what its URI serves: a Universe JSON index (`{"packages": [...]}`, as
 * Universe servers answer with `application/vnd.dcos.universe.repo+json`), or a zip of a Universe repository tree
 * (`repo/packages/<L>/<name>/<releaseVersion>/{package.json, config.json, marathon.json.mustache, resource.json}`,
 * plus our `desired_lrp.json.mustache`). Both become the JSON index form, checked by one ajv schema.
 */
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import { strFromU8, unzipSync } from 'fflate';

/** One package release as the index holds it (Universe's v3/v4 package, the fields we use). */
export interface UniversePackage {
  packagingVersion: string;
  name: string;
  version: string;
  releaseVersion: number;
  maintainer?: string;
  description?: string;
  tags?: string[];
  selected?: boolean;
  framework?: boolean;
  preInstallNotes?: string;
  postInstallNotes?: string;
  postUninstallNotes?: string;
  /** The JSON schema of the install options; its `default`s are the options a user does not give. */
  config?: Record<string, unknown>;
  resource?: Record<string, unknown>;
  /** A Marathon app definition, a Mustache template, base64 (Universe's field). */
  marathon?: { v2AppMustacheTemplate: string };
  /** Ours: a DesiredLRP (as POST /v1/desired_lrps takes it), a Mustache template, base64. */
  diego?: { desiredLrpMustacheTemplate: string };
}

export interface UniverseIndex {
  packages: UniversePackage[];
}

/** Why what a repository served is no index. */
export class IndexUnreadable extends Error {
  override readonly name = 'IndexUnreadable';
}

/** Entries and total bytes a repository zip may unpack to (a zip bomb stops here, not in memory). */
const MAX_ZIP_ENTRIES = 20_000;
const MAX_ZIP_BYTES = 256 * 1024 * 1024;

const packageSchema: JSONSchemaType<UniversePackage> = {
  type: 'object',
  properties: {
    packagingVersion: { type: 'string' },
    name: { type: 'string', minLength: 1, pattern: '^[a-z0-9][a-z0-9._-]*$' },
    version: { type: 'string', minLength: 1 },
    releaseVersion: { type: 'integer', minimum: 0 },
    maintainer: { type: 'string', nullable: true },
    description: { type: 'string', nullable: true },
    tags: { type: 'array', items: { type: 'string' }, nullable: true },
    selected: { type: 'boolean', nullable: true },
    framework: { type: 'boolean', nullable: true },
    preInstallNotes: { type: 'string', nullable: true },
    postInstallNotes: { type: 'string', nullable: true },
    postUninstallNotes: { type: 'string', nullable: true },
    config: { type: 'object', nullable: true, required: [] },
    resource: { type: 'object', nullable: true, required: [] },
    marathon: {
      type: 'object',
      nullable: true,
      properties: { v2AppMustacheTemplate: { type: 'string' } },
      required: ['v2AppMustacheTemplate'],
    },
    diego: {
      type: 'object',
      nullable: true,
      properties: { desiredLrpMustacheTemplate: { type: 'string' } },
      required: ['desiredLrpMustacheTemplate'],
    },
  },
  required: ['packagingVersion', 'name', 'version', 'releaseVersion'],
};

const indexSchema: JSONSchemaType<UniverseIndex> = {
  type: 'object',
  properties: { packages: { type: 'array', items: packageSchema } },
  required: ['packages'],
};

const isUniverseIndex = new Ajv({ allErrors: true }).compile(indexSchema);

/** The index a repository served: zip (by its magic bytes or type) or JSON; IndexUnreadable says what is wrong. */
export function readIndex(body: Uint8Array, contentType: string): UniverseIndex {
  const isZip = contentType.includes('zip') || (body[0] === 0x50 && body[1] === 0x4b && body[2] === 0x03 && body[3] === 0x04);
  return checkedIndex(isZip ? indexFromZip(body) : parseJsonText(strFromU8(body), 'the index'));
}

/** `value` as an index, or IndexUnreadable naming the first fields that are wrong. */
export function checkedIndex(value: unknown): UniverseIndex {
  if (!isUniverseIndex(value)) throw new IndexUnreadable(`the index is not a Universe index: ${describeErrors(isUniverseIndex.errors)}`);
  for (const pkg of value.packages) {
    for (const template of [pkg.marathon?.v2AppMustacheTemplate, pkg.diego?.desiredLrpMustacheTemplate]) {
      if (template !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(template)) {
        throw new IndexUnreadable(`package ${pkg.name} ${pkg.version}: its template is not base64`);
      }
    }
  }
  return value;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).slice(0, 3).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`).join('; ');
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new IndexUnreadable(`${what} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const PACKAGE_FILE = /^(.*?)repo\/packages\/[^/]+\/([^/]+)\/(0|[1-9][0-9]*)\/([^/]+)$/;

/** The files of a Universe repository tree, whatever directory the zip wraps it in, as index packages. */
function indexFromZip(body: Uint8Array): unknown {
  let entries = 0;
  let bytes = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(body, {
      filter: (file) => {
        entries += 1;
        bytes += file.originalSize;
        if (entries > MAX_ZIP_ENTRIES || bytes > MAX_ZIP_BYTES) throw new IndexUnreadable(`the zip unpacks to more than ${MAX_ZIP_ENTRIES} files or ${MAX_ZIP_BYTES} bytes`);
        return PACKAGE_FILE.test(file.name);
      },
    });
  } catch (err) {
    if (err instanceof IndexUnreadable) throw err;
    throw new IndexUnreadable(`the zip cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const releases = new Map<string, { name: string; releaseVersion: number; files: Map<string, string> }>();
  for (const [path, content] of Object.entries(files)) {
    const match = PACKAGE_FILE.exec(path);
    if (match === null) continue;
    const [, root = '', name = '', release = '0', file = ''] = match;
    const key = `${root}\u0000${name}\u0000${release}`;
    const entry = releases.get(key) ?? { name, releaseVersion: Number(release), files: new Map<string, string>() };
    entry.files.set(file, strFromU8(content));
    releases.set(key, entry);
  }
  if (releases.size === 0) throw new IndexUnreadable('the zip holds no repo/packages/<L>/<name>/<release>/package.json');
  const packages = [...releases.values()].map(({ name, releaseVersion, files: tree }) => {
    const where = `repo/packages/${name}/${releaseVersion}`;
    const json = (file: string): unknown => {
      const text = tree.get(file);
      return text === undefined ? undefined : parseJsonText(text, `${where}/${file}`);
    };
    const definition = json('package.json');
    if (typeof definition !== 'object' || definition === null) throw new IndexUnreadable(`${where}/package.json is missing or not an object`);
    const base64 = (file: string): string | undefined => {
      const text = tree.get(file);
      return text === undefined ? undefined : Buffer.from(text, 'utf8').toString('base64');
    };
    const marathon = base64('marathon.json.mustache');
    const desiredLrp = base64('desired_lrp.json.mustache');
    const config = json('config.json');
    const resource = json('resource.json');
    return {
      packagingVersion: '3.0',
      ...definition,
      releaseVersion,
      ...(config === undefined ? {} : { config }),
      ...(resource === undefined ? {} : { resource }),
      ...(marathon === undefined ? {} : { marathon: { v2AppMustacheTemplate: marathon } }),
      ...(desiredLrp === undefined ? {} : { diego: { desiredLrpMustacheTemplate: desiredLrp } }),
    };
  });
  return { packages };
}
