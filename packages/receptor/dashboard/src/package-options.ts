/**
 * A package's install options as the page offers them, from its config JSON schema: a field for each top-level
 * property of a simple type (string, integer, number, boolean; an `enum` as a choice), and every property, nested
 * ones by their dotted path, described. What the fields hold becomes the install request's `options`; the service
 * merges them over the schema's defaults and checks them against it (ajv), so the page checks nothing itself: a
 * number field that is no number is sent as the text it holds, for the service's JsonSchemaMismatch to say so.
 */

type Json = Record<string, unknown>;

export type SimpleType = 'string' | 'integer' | 'number' | 'boolean';

/** A form field for one top-level option. */
export interface OptionField {
  name: string;
  type: SimpleType;
  /** The choices, when the schema lists them. */
  choices: ReadonlyArray<string | number | boolean> | null;
  /** The schema's default, as the field shows it first ('' when none). */
  initial: string | boolean;
  description: string;
  required: boolean;
}

/** One option of the schema, for the package's description. */
export interface OptionDescription {
  /** `greeting`, `service.instances` */
  path: string;
  type: string;
  /** The default as JSON, '' when none. */
  defaultValue: string;
  description: string;
}

const SIMPLE_TYPES: readonly SimpleType[] = ['string', 'integer', 'number', 'boolean'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function propertiesOf(schema: unknown): Array<[string, Json]> {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  return Object.entries(schema.properties).flatMap(([name, property]) => (isObject(property) ? [[name, property] as [string, Json]] : []));
}

function typeOf(property: Json): string {
  if (typeof property.type === 'string') return property.type;
  if (Array.isArray(property.type)) return property.type.filter((t) => typeof t === 'string').join(' or ');
  return isObject(property.properties) ? 'object' : '';
}

function simpleTypeOf(property: Json): SimpleType | null {
  return SIMPLE_TYPES.find((type) => type === property.type) ?? null;
}

function descriptionOf(property: Json): string {
  return typeof property.description === 'string' ? property.description : typeof property.title === 'string' ? property.title : '';
}

/** The fields the install form offers: the top-level properties of a simple type, in the schema's order. */
export function optionFields(schema: unknown): OptionField[] {
  const required = new Set(isObject(schema) && Array.isArray(schema.required) ? schema.required.filter((name) => typeof name === 'string') : []);
  return propertiesOf(schema).flatMap(([name, property]): OptionField[] => {
    const type = simpleTypeOf(property);
    if (type === null) return [];
    const choices = Array.isArray(property.enum)
      ? property.enum.filter((choice): choice is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof choice))
      : null;
    const fallback = type === 'boolean' ? false : '';
    const initial = property.default === undefined || property.default === null
      ? fallback
      : type === 'boolean' ? property.default === true : String(property.default);
    return [{ name, type, choices, initial, description: descriptionOf(property), required: required.has(name) }];
  });
}

/** Every option of the schema, nested objects' members by their dotted path, in the schema's order. */
export function describeOptions(schema: unknown, prefix = ''): OptionDescription[] {
  return propertiesOf(schema).flatMap(([name, property]) => {
    const path = `${prefix}${name}`;
    const own: OptionDescription = {
      path,
      type: typeOf(property),
      defaultValue: property.default === undefined ? '' : JSON.stringify(property.default),
      description: descriptionOf(property),
    };
    const nested = describeOptions(property, `${path}.`);
    return nested.length === 0 ? [own] : [own, ...nested];
  });
}

function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/**
 * The options the fields give. An empty text field gives nothing (the schema's default applies); a choice is sent
 * as the schema wrote it (a number as a number); a checkbox always gives true or false.
 */
export function optionsFromFields(fields: readonly OptionField[], values: ReadonlyMap<string, string | boolean>): Json {
  const options: Json = {};
  for (const field of fields) {
    const value = values.get(field.name);
    if (value === undefined) continue;
    if (typeof value === 'boolean') {
      options[field.name] = value;
      continue;
    }
    if (value.trim() === '') continue;
    const choice = field.choices?.find((candidate) => String(candidate) === value);
    if (choice !== undefined) options[field.name] = choice;
    else options[field.name] = field.type === 'integer' || field.type === 'number' ? numberOrText(value) : value;
  }
  return options;
}

export interface InstallTarget {
  packageName: string;
  packageVersion: string;
}

/** The body of POST /package/install: this release, the fields' options, and the app id when one is typed. */
export function installRequest(target: InstallTarget, appId: string, options: Json): Json {
  return {
    packageName: target.packageName,
    packageVersion: target.packageVersion,
    ...(appId.trim() === '' ? {} : { appId: appId.trim() }),
    options,
  };
}
