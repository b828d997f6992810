/**
 * The cell's log store: every line its containers print, kept per log_guid (an LRP's instances share one, a task
 * has its own) so that `diego logs` can show what was printed and follow what comes, as `ltc logs` and `cf logs`
 * did. Bounded: the newest LINES_PER_LOG lines of the newest LOGS_KEPT logs; a log outlives its containers (a task's
 * output can be read after it completed) until it falls out of that bound or the cell stops.
 */

/** One line of a container's output. */
export interface LogLine {
  /** RFC 3339 with milliseconds. */
  timestamp: string;
  log_guid: string;
  /** APP, HEALTH, CELL... (the run action's log_source, else the container's). */
  source: string;
  /** The LRP instance's index; 0 for a task. */
  index: number;
  stream: 'stdout' | 'stderr' | 'executor';
  line: string;
}

export const LINES_PER_LOG = 1000;
export const LOGS_KEPT = 1000;

/** What a container writes its lines into. */
export interface ContainerLog {
  append(entry: Omit<LogLine, 'timestamp' | 'log_guid'>): void;
}

interface Log {
  lines: LogLine[];
  followers: Set<(line: LogLine) => void>;
}

export class ContainerLogs {
  /** In the order of their last line: a Map iterates in insertion order, and each append moves its log last. */
  private readonly logs = new Map<string, Log>();

  constructor(
    private readonly linesPerLog = LINES_PER_LOG,
    private readonly logsKept = LOGS_KEPT,
  ) {}

  forContainer(logGuid: string): ContainerLog {
    return { append: (entry) => this.append({ ...entry, log_guid: logGuid, timestamp: new Date().toISOString() }) };
  }

  /** The lines kept for a log, oldest first. */
  history(logGuid: string): LogLine[] {
    return [...(this.logs.get(logGuid)?.lines ?? [])];
  }

  /** Calls `onLine` with every line appended to the log from now on; returns the unsubscribe. */
  follow(logGuid: string, onLine: (line: LogLine) => void): () => void {
    const log = this.logFor(logGuid);
    log.followers.add(onLine);
    return () => log.followers.delete(onLine);
  }

  private append(line: LogLine): void {
    const log = this.logFor(line.log_guid);
    log.lines.push(line);
    if (log.lines.length > this.linesPerLog) log.lines.splice(0, log.lines.length - this.linesPerLog);
    for (const follower of log.followers) follower(line);
  }

  private logFor(logGuid: string): Log {
    let log = this.logs.get(logGuid);
    if (log === undefined) {
      log = { lines: [], followers: new Set() };
    } else {
      this.logs.delete(logGuid);
    }
    this.logs.set(logGuid, log);
    for (const [guid, old] of this.logs) {
      if (this.logs.size <= this.logsKept) break;
      if (old.followers.size === 0) this.logs.delete(guid);
    }
    return log;
  }
}
