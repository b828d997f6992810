import { spawn } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** The exit status, or null when a signal ended the command. */
  status: number | null;
}

/** A system tool (ip, iptables, nsenter) that failed: the command line and what it said. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`${command} ${args.join(' ')} exited with status ${result.status ?? 'killed'}: ${result.stderr.trim()}`);
    this.name = 'CommandError';
  }
}

/**
 * Runs a system tool with `input` on its stdin (the batch files of `ip -batch -` and `iptables-restore`), and
 * resolves with what it printed. Rejects with a CommandError when it exits non-zero, unless `check` is false.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  { input = '', check = true }: { input?: string; check?: boolean } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A tool that exits before reading its stdin makes the write fail with EPIPE: its exit status says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.once('error', reject);
    child.once('close', (status) => {
      const result = { stdout, stderr, status };
      if (check && status !== 0) reject(new CommandError(command, args, result));
      else resolve(result);
    });
  });
}
