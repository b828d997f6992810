/**
 * Search, describe, install, list and uninstall over the repositories' indexes and the BBS. An installed package
 * is one DesiredLRP whose annotation is `{"diego_package": {name, version, releaseVersion, repository}}` (JSON): list
 * and uninstall find installs by it, whoever desired them.
 */
import Ajv, { type ErrorObject } from 'ajv';
import Mustache from 'mustache';
import { decodeDesiredLrpCreateRequest, isBbsError, isJsonObject, validateDesiredLrp, type DesiredLRP, type DesiredLRPSchedulingInfo } from '@diego/models';
import { CosmosError, fromBbsError, malformedRequest, packageNotFound, versionNotFound } from './errors';
import { desiredLrpFromMarathonApp } from './marathon';
import type { PackageRepository } from './repository-indexes';
import type { UniversePackage } from './universe';

type Json = Record<string, unknown>;

/** The annotation member that marks a DesiredLRP as an installed package. */
export const PACKAGE_LABEL = 'diego_package';

export interface InstalledLabel {
  name: string;
  version: string;
  releaseVersion: number;
  repository: string;
}

/** A package release and the repository it came from. */
export interface FoundPackage {
  repository: PackageRepository;
  definition: UniversePackage;
}

/** What installing needs from the BBS. */
export interface PackageBbs {
  desireLRP(lrp: DesiredLRP): Promise<void>;
  desiredLRPByProcessGuid(processGuid: string): Promise<DesiredLRP>;
  removeDesiredLRP(processGuid: string): Promise<void>;
  desiredLRPSchedulingInfos(): Promise<DesiredLRPSchedulingInfo[]>;
}


/** Every release of every package, repositories in their order (the first repository's release of a name wins). */
export type Catalogue = readonly FoundPackage[];

/** `*` matches anything; otherwise the text is looked for in the name, description and tags, ignoring case. */
function matches(definition: UniversePackage, query: string): boolean {
  if (query.trim() === '') return true;
  const pattern = new RegExp(query.trim().toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  const fields = [definition.name, definition.description ?? '', ...(definition.tags ?? [])];
  return fields.some((field) => pattern.test(field.toLowerCase()));
}

/** The releases of `name` from the first repository that has it. */
function releasesOf(catalogue: Catalogue, name: string): FoundPackage[] {
  const first = catalogue.find((found) => found.definition.name === name);
  if (first === undefined) return [];
  return catalogue.filter((found) => found.definition.name === name && found.repository.uri === first.repository.uri);
}

function newest(releases: readonly FoundPackage[]): FoundPackage | undefined {
  return releases.reduce<FoundPackage | undefined>((best, found) => (best === undefined || found.definition.releaseVersion > best.definition.releaseVersion ? found : best), undefined);
}

/** Cosmos's search result: one entry per package name, its versions by release. */
export function search(catalogue: Catalogue, query: string): Json[] {
  const names = [...new Set(catalogue.filter((found) => matches(found.definition, query)).map((found) => found.definition.name))];
  return names.sort().map((name) => {
    const releases = releasesOf(catalogue, name);
    const current = newest(releases);
    const definition = current?.definition;
    return {
      name,
      currentVersion: definition?.version ?? '',
      versions: Object.fromEntries(releases.map((found) => [found.definition.version, String(found.definition.releaseVersion)])),
      description: definition?.description ?? '',
      framework: definition?.framework ?? false,
      tags: definition?.tags ?? [],
      selected: definition?.selected ?? false,
      repository: current?.repository.name ?? '',
    };
  });
}

/** The release asked for (the newest when no version is given); PackageNotFound or VersionNotFound. */
export function find(catalogue: Catalogue, name: string, version: string | undefined): FoundPackage {
  const releases = releasesOf(catalogue, name);
  if (releases.length === 0) throw packageNotFound(name);
  const found = version === undefined ? newest(releases) : releases.find((release) => release.definition.version === version);
  if (found === undefined) throw versionNotFound(name, version ?? '');
  return found;
}

/** The options the schema's `default`s give, nested as the schema's properties are. */
export function schemaDefaults(schema: unknown): unknown {
  if (!isJsonObject(schema)) return undefined;
  if (!isJsonObject(schema.properties)) return schema.default;
  const nested: Json = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = schemaDefaults(property);
    if (value !== undefined) nested[name] = value;
  }
  return isJsonObject(schema.default) ? merged(schema.default, nested) : Object.keys(nested).length > 0 ? nested : schema.default;
}

/** `over` on top of `base`, objects member by member, anything else replaced whole. */
function merged(base: unknown, over: unknown): unknown {
  if (!isJsonObject(base) || !isJsonObject(over)) return over === undefined ? base : over;
  const out: Json = { ...base };
  for (const [name, value] of Object.entries(over)) out[name] = merged(base[name], value);
  return out;
}

/** The user's options over the package's defaults, checked against its config schema (JsonSchemaMismatch). */
export function installOptions(definition: UniversePackage, options: Json): Json {
  const schema = definition.config;
  if (schema === undefined) {
    if (Object.keys(options).length > 0) throw new CosmosError('JsonSchemaMismatch', `Package [${definition.name}] takes no options`, 400, { errors: [] });
    return {};
  }
  const all = merged(schemaDefaults(schema), options);
  const values = isJsonObject(all) ? all : {};
  // Universe's schemas name draft-04 (`http://json-schema.org/schema#`), a meta-schema ajv does not load: the
  // keywords they use read the same in ajv's default draft.
  const { $schema: _metaSchema, ...checkedSchema } = schema;
  let validate;
  try {
    validate = new Ajv({ allErrors: true, strict: false }).compile(checkedSchema);
  } catch (err) {
    throw new CosmosError('PackageConfigSchemaInvalid', `The config schema of package [${definition.name}] cannot be used: ${err instanceof Error ? err.message : String(err)}`, 400);
  }
  if (!validate(values)) {
    const errors = (validate.errors ?? []).map((error: ErrorObject) => ({ path: error.instancePath === '' ? '/' : error.instancePath, message: error.message ?? 'is invalid' }));
    throw new CosmosError(
      'JsonSchemaMismatch',
      `Options JSON failed validation: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      400,
      { errors },
    );
  }
  return values;
}

/** Values go into the template as JSON string contents: an option can neither break the JSON nor add members. */
function jsonEscape(value: unknown): string {
  return JSON.stringify(String(value)).slice(1, -1);
}

/** The app of a release rendered with these options, as the DesiredLRP to desire (InvalidDesiredLRP, ...). */
export function renderDesiredLrp(found: FoundPackage, options: Json, appId: string | undefined): DesiredLRP {
  const { definition, repository } = found;
  const view = { ...options, resource: definition.resource ?? {} };
  const render = (base64: string): unknown => {
    const text = Mustache.render(Buffer.from(base64, 'base64').toString('utf8'), view, {}, { escape: jsonEscape });
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new CosmosError('MarathonTemplateMustBeJsonObject', `The template of package [${definition.name}] did not render to JSON: ${err instanceof Error ? err.message : String(err)}`, 400);
    }
  };
  let body: unknown;
  if (definition.diego !== undefined) body = render(definition.diego.desiredLrpMustacheTemplate);
  else if (definition.marathon !== undefined) body = desiredLrpFromMarathonApp(render(definition.marathon.v2AppMustacheTemplate));
  else throw new CosmosError('ServiceMarathonTemplateNotFound', `Package [${definition.name}] version [${definition.version}] has no app to install`, 400, { packageName: definition.name, packageVersion: definition.version });
  if (!isJsonObject(body)) throw new CosmosError('MarathonTemplateMustBeJsonObject', `The template of package [${definition.name}] did not render to a JSON object`, 400);
  const label: InstalledLabel = { name: definition.name, version: definition.version, releaseVersion: definition.releaseVersion, repository: repository.name };
  const app = {
    ...body,
    ...(appId === undefined ? {} : { process_guid: appId.replace(/^\/+|\/+$/g, '').replace(/\//g, '-') }),
    annotation: JSON.stringify({ [PACKAGE_LABEL]: label }),
  };
  try {
    const lrp = decodeDesiredLrpCreateRequest(JSON.stringify(app));
    validateDesiredLrp(lrp);
    return lrp;
  } catch (err) {
    if (isBbsError(err)) throw new CosmosError('InvalidDesiredLRP', `Package [${definition.name}] renders to an invalid DesiredLRP: ${err.message}`, 400);
    throw err;
  }
}

/** Desires it; PackageAlreadyInstalled when its process guid is taken. */
export async function install(bbs: PackageBbs, found: FoundPackage, lrp: DesiredLRP): Promise<Json> {
  const alreadyInstalled = (): CosmosError =>
    new CosmosError('PackageAlreadyInstalled', `An app with id [${lrp.process_guid}] is already installed`, 409, { appId: lrp.process_guid });
  // Asked first: the BBS answers a repeated create of the same definition as a success (a retried request).
  const existing = await bbs.desiredLRPByProcessGuid(lrp.process_guid).catch((err: unknown) => {
    if (isBbsError(err, 'ResourceNotFound')) return null;
    throw fromBbsError(err);
  });
  if (existing !== null) throw alreadyInstalled();
  try {
    await bbs.desireLRP(lrp);
  } catch (err) {
    if (isBbsError(err, 'ResourceExists')) throw alreadyInstalled();
    throw fromBbsError(err);
  }
  const { name, version, postInstallNotes } = found.definition;
  return { packageName: name, packageVersion: version, appId: lrp.process_guid, ...(postInstallNotes === undefined ? {} : { postInstallNotes }) };
}

export interface Installed {
  appId: string;
  label: InstalledLabel;
}

function labelOf(annotation: string): InstalledLabel | null {
  if (!annotation.includes(PACKAGE_LABEL)) return null;
  try {
    const parsed: unknown = JSON.parse(annotation);
    const label = isJsonObject(parsed) ? parsed[PACKAGE_LABEL] : undefined;
    if (!isJsonObject(label) || typeof label.name !== 'string' || typeof label.version !== 'string') return null;
    return {
      name: label.name,
      version: label.version,
      releaseVersion: typeof label.releaseVersion === 'number' ? label.releaseVersion : 0,
      repository: typeof label.repository === 'string' ? label.repository : '',
    };
  } catch {
    return null;
  }
}

/** The installed packages, by package name and app id when given, in app id order. */
export async function installed(bbs: PackageBbs, packageName?: string, appId?: string): Promise<Installed[]> {
  const infos = await bbs.desiredLRPSchedulingInfos().catch((err: unknown) => {
    throw fromBbsError(err);
  });
  return infos
    .map((info) => ({ appId: info.process_guid, label: labelOf(info.annotation) }))
    .filter((entry): entry is Installed => entry.label !== null)
    .filter((entry) => (packageName === undefined || entry.label.name === packageName) && (appId === undefined || entry.appId === appId))
    .sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
}

/** Cosmos's list entry; the description is the index's when the release is still there. */
export function listEntry(entry: Installed, catalogue: Catalogue): Json {
  const release = catalogue.find((found) => found.definition.name === entry.label.name && found.definition.version === entry.label.version);
  return {
    appId: entry.appId,
    packageInformation: {
      packageDefinition: {
        name: entry.label.name,
        version: entry.label.version,
        releaseVersion: entry.label.releaseVersion,
        repository: entry.label.repository,
        ...(release?.definition.description === undefined ? {} : { description: release.definition.description }),
      },
    },
  };
}

/** Removes the installs a request names: AmbiguousAppId when several match and neither appId nor all is given. */
export async function uninstall(bbs: PackageBbs, catalogue: Catalogue, packageName: string, appId: string | undefined, all: boolean): Promise<Json[]> {
  const targets = await installed(bbs, packageName, appId);
  if (targets.length === 0) {
    if (appId !== undefined) throw new CosmosError('UninstallNonExistentAppForPackage', `Package [${packageName}] with id [${appId}] is not installed`, 404, { packageName, appId });
    throw new CosmosError('PackageNotInstalled', `Package [${packageName}] is not installed`, 404, { packageName });
  }
  if (targets.length > 1 && appId === undefined && !all) {
    throw new CosmosError(
      'AmbiguousAppId',
      `Multiple apps named [${packageName}] are installed: [${targets.map((t) => t.appId).join(', ')}]. Name one with appId, or uninstall them all with all: true`,
      400,
      { packageName, appIds: targets.map((t) => t.appId) },
    );
  }
  const results: Json[] = [];
  for (const target of targets) {
    try {
      await bbs.removeDesiredLRP(target.appId);
    } catch (err) {
      // Removed by someone else meanwhile: it is gone, as asked.
      if (!isBbsError(err, 'ResourceNotFound')) throw fromBbsError(err);
    }
    const notes = catalogue.find((found) => found.definition.name === target.label.name && found.definition.version === target.label.version)?.definition.postUninstallNotes;
    results.push({ packageName, appId: target.appId, packageVersion: target.label.version, ...(notes === undefined ? {} : { postUninstallNotes: notes }) });
  }
  return results;
}

/** A request member that must be a string when present. */
export function optionalString(body: Json, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformedRequest(`${member} must be a string`);
  return value;
}

export function requiredString(body: Json, member: string): string {
  const value = optionalString(body, member);
  if (value === undefined || value === '') throw malformedRequest(`${member} is required`);
  return value;
}
