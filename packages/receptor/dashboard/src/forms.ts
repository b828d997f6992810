/**
 * What the new app and new task forms post: built from the fields as typed. A number field that is no number is
 * sent as the text it holds, so that the receptor's own answer (InvalidJSON) says what is wrong with it.
 */
import type { ImageConfig } from './api.js';

export interface AppFields {
  processGuid: string;
  domain: string;
  rootfs: string;
  path: string;
  /** One argument per line. */
  args: string;
  user: string;
  instances: string;
  memoryMb: string;
  diskMb: string;
  /** Container ports, separated by commas or spaces. */
  ports: string;
  /** `NAME=value`, one per line. */
  env: string;
  /** Host names for the cf-router route to the first port, separated by commas or spaces. */
  hostnames: string;
}

export interface TaskFields {
  taskGuid: string;
  domain: string;
  rootfs: string;
  path: string;
  args: string;
  user: string;
  memoryMb: string;
  diskMb: string;
  resultFile: string;
}

function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line !== '');
}

function words(text: string): string[] {
  return text.split(/[\s,]+/).filter((word) => word !== '');
}

function envOf(text: string): Array<{ name: string; value: string }> {
  return lines(text).map((line) => {
    const equals = line.indexOf('=');
    return equals === -1 ? { name: line, value: '' } : { name: line.slice(0, equals), value: line.slice(equals + 1) };
  });
}

function runAction(path: string, args: string, user: string): { run: { path: string; args: string[]; user: string } } {
  return { run: { path: path.trim(), args: lines(args), user: user.trim() } };
}

/** The body of POST /v1/desired_lrps for these fields. */
export function desiredLrpRequest(fields: AppFields): Record<string, unknown> {
  const ports = words(fields.ports).map(numberOrText);
  const env = envOf(fields.env);
  const hostnames = words(fields.hostnames);
  return {
    process_guid: fields.processGuid.trim(),
    domain: fields.domain.trim(),
    rootfs: fields.rootfs.trim(),
    instances: numberOrText(fields.instances),
    memory_mb: numberOrText(fields.memoryMb),
    disk_mb: numberOrText(fields.diskMb),
    log_guid: fields.processGuid.trim(),
    ...(ports.length === 0 ? {} : { ports }),
    ...(env.length === 0 ? {} : { env }),
    ...(hostnames.length === 0 ? {} : { routes: { 'cf-router': [{ hostnames, port: ports[0] ?? 8080 }] } }),
    action: runAction(fields.path, fields.args, fields.user),
  };
}

/** The body of POST /v1/tasks for these fields. */
export function taskRequest(fields: TaskFields): Record<string, unknown> {
  return {
    task_guid: fields.taskGuid.trim(),
    domain: fields.domain.trim(),
    rootfs: fields.rootfs.trim(),
    memory_mb: numberOrText(fields.memoryMb),
    disk_mb: numberOrText(fields.diskMb),
    log_guid: fields.taskGuid.trim(),
    ...(fields.resultFile.trim() === '' ? {} : { result_file: fields.resultFile.trim() }),
    action: runAction(fields.path, fields.args, fields.user),
  };
}

/**
 * The fields an image's config fills in where the form has nothing yet: the command (entrypoint, else the first of
 * Cmd), its arguments, the exposed ports, the environment and the user.
 */
export function imageDefaults(config: ImageConfig, fields: AppFields): Partial<AppFields> {
  const command = [...config.entrypoint, ...config.cmd];
  const defaults: Partial<AppFields> = {};
  if (fields.path.trim() === '' && command.length > 0) {
    defaults.path = command[0] ?? '';
    if (fields.args.trim() === '') defaults.args = command.slice(1).join('\n');
  }
  if (fields.ports.trim() === '' && config.exposedPorts.length > 0) defaults.ports = config.exposedPorts.join(', ');
  if (fields.env.trim() === '' && config.env.length > 0) defaults.env = config.env.join('\n');
  if (fields.user.trim() === '' && config.user !== '') defaults.user = config.user;
  return defaults;
}
