/**
 * A /24 for one root cell of a test (its -networkPool): two cells with one range would make the kernel route to
 * whichever bridge came first, and tests run in parallel workers and processes. Picked at random in
 * 10.200.0.0-10.249.255.0 (never the 10.254/16 a `diego up` outside the tests uses), away from every range this
 * machine routes now.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

export function uniqueNetworkPool(): string {
  const routed = execFileSync('ip', ['-4', '-o', 'route', 'show'], { encoding: 'utf8' });
  for (;;) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.`;
    if (!routed.includes(prefix)) return `${prefix}0/24`;
  }
}
