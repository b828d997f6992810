/** The kinds of flag values Diego's commands take, each validated where it is parsed. */
import type { LogLevel } from '@diego/server-support';
import { parseEndpointUrl, parseHostPort } from './address';
import { parseGoDuration } from './duration';
import { parseGoBool, type FlagDef } from './flags';

/** The one text of a single-valued flag (the parser passes exactly one). */
function onlyText(written: readonly string[]): string {
  return written[written.length - 1] ?? '';
}

export function stringFlag(usage: string, defaultText = '', valueName = 'string'): FlagDef<string> {
  return { usage, valueName, defaultText, parse: onlyText };
}

export function boolFlag(usage: string, defaultValue = false): FlagDef<boolean> {
  return { usage, defaultText: String(defaultValue), isBoolean: true, parse: (written) => parseGoBool(onlyText(written)) };
}

/** A flag of Diego's that has no effect here: still parsed as `flag` parses it, and reported as ignored when given. */
export function ignored<T>(flag: FlagDef<T>, reason: string): FlagDef<T> {
  return { ...flag, ignoredBecause: reason };
}

/** Comma-separated `host:port`s (Diego's -natsAddresses, -insecureDockerRegistryList); empty text is none. */
export function hostPortListFlag(usage: string, defaultText = ''): FlagDef<string[]> {
  return {
    usage,
    valueName: 'host:port[,host:port...]',
    defaultText,
    parse: (written) => {
      const text = onlyText(written);
      return text === '' ? [] : text.split(',').map((item) => parseHostPort(item.trim()));
    },
  };
}

/** Comma-separated names (Diego's -domainNames); empty text is none, an empty item is refused. */
export function nameListFlag(usage: string, valueName: string): FlagDef<string[]> {
  return {
    usage,
    valueName: `${valueName}[,${valueName}...]`,
    defaultText: '',
    parse: (written) => {
      const text = onlyText(written);
      if (text === '') return [];
      const items = text.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) throw new Error(`expected comma-separated ${valueName}s, found an empty one`);
      return items;
    },
  };
}

export function addressFlag(usage: string, defaultText: string): FlagDef<string> {
  return { usage, valueName: 'host:port', defaultText, parse: (written) => parseHostPort(onlyText(written)) };
}

/** A comma-separated list of http(s) URLs, at least one. */
export function urlListFlag(usage: string, defaultText: string): FlagDef<string[]> {
  return {
    usage,
    valueName: 'url[,url...]',
    defaultText,
    parse: (written) => {
      const items = onlyText(written).split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) throw new Error('expected comma-separated URLs, found an empty one');
      return items.map(parseEndpointUrl);
    },
  };
}

/** One http(s) URL. */
export function urlFlag(usage: string, defaultText: string): FlagDef<string> {
  return { usage, valueName: 'url', defaultText, parse: (written) => parseEndpointUrl(onlyText(written)) };
}

/** The same flag where an empty value (the default) means "none" (null). */
export function optional<T>(flag: FlagDef<T>): FlagDef<T | null> {
  return { ...flag, defaultText: '', parse: (written) => (onlyText(written) === '' ? null : flag.parse(written)) };
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'error', 'fatal'];

function isLogLevel(text: string): text is LogLevel {
  return LOG_LEVELS.some((level) => level === text);
}

export function logLevelFlag(): FlagDef<LogLevel> {
  return {
    usage: `log level: ${LOG_LEVELS.join(', ')}`,
    valueName: 'level',
    defaultText: 'info',
    parse: (written) => {
      const text = onlyText(written);
      if (!isLogLevel(text)) throw new Error(`not a log level (${LOG_LEVELS.join(', ')})`);
      return text;
    },
  };
}

/** Parses a positive decimal integer (no sign, no fraction, no exponent). */
export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || !Number.isSafeInteger(value)) throw new Error('not a positive integer');
  return value;
}

/** A decimal integer, 0 or more (Go's zero meaning "the default" in flags like -bbsMaxIdleConnsPerHost). */
export function nonNegativeIntegerFlag(usage: string, defaultText = '0', valueName = 'n'): FlagDef<number> {
  return {
    usage,
    valueName,
    defaultText,
    parse: (written) => {
      const text = onlyText(written);
      return text === '0' ? 0 : parsePositiveInteger(text);
    },
  };
}

export function positiveIntegerFlag(usage: string, defaultText: string, valueName = 'n'): FlagDef<number> {
  return { usage, valueName, defaultText, parse: (written) => parsePositiveInteger(onlyText(written)) };
}

/** A positive integer or `auto` (Diego's executor spelling for "what this machine has"), resolved by the command. */
export function autoOrPositiveIntegerFlag(usage: string, valueName = 'n'): FlagDef<number | 'auto'> {
  return {
    usage,
    valueName: `${valueName}|auto`,
    defaultText: 'auto',
    parse: (written) => {
      const text = onlyText(written);
      return text === 'auto' ? 'auto' : parsePositiveInteger(text);
    },
  };
}

/** A positive Go duration (`500ms`, `30s`, `10m`, `1h30m`), in milliseconds. */
export function durationFlag(usage: string, defaultText: string): FlagDef<number> {
  return {
    usage,
    valueName: 'duration',
    defaultText,
    parse: (written) => {
      const milliseconds = parseGoDuration(onlyText(written));
      if (milliseconds <= 0) throw new Error('the duration must be positive');
      return milliseconds;
    },
  };
}
