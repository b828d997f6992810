/**
 * The cells' states as the auctioneer last heard them (ours; Diego asked every cell for its `/state` in every
 * round). A round uses what it knows, with the work the auctioneer has placed on each cell since added as the
 * scheduler reserves it; only cells it knows nothing of are asked then. A state so kept can only overstate
 * what a cell uses (containers end, instances leave, the auctioneer alone adds work), so it never gives a cell
 * work a fresh state would not; when a reused state may have kept work off every cell, the round asks every cell
 * again ({@link CellStates.askingAll}). Known states are asked again in the background, the oldest first, so that
 * none is much older than `maxAgeMs` while rounds never wait for it.
 *
 * A cell is forgotten, and asked again by the next round, when something may have changed it other than our
 * work: it (re)registered, one of its instances left it for UNCLAIMED (a crash, an evacuation), it refused work,
 * or a `/work` call failed.
 */
import { convertError, type CellPresence } from '@diego/models';
import type { Logger } from 'pino';
import type { CellState, RepClient, Work } from '@diego/rep-api';
import { stateWithWork } from './scheduler';

/** When no cell answers `/state`, this many more tries, each with twice the timeout. */
const STATE_RETRIES = 3;

/** How often, by default, the background looks for states older than `maxAgeMs` and cells that did not answer. */
export const DEFAULT_REFRESH_TICK_MS = 1000;

export interface CellStatesOptions {
  rep: RepClient;
  logger: Logger;
  /** How long each cell has to answer `/state`; doubled per retry when no cell answers. */
  timeoutMs: number;
  /** How old a known state may grow before the background asks the cell again. */
  maxAgeMs: number;
  /** How often the background looks (DEFAULT_REFRESH_TICK_MS). */
  refreshTickMs: number;
  /** Milliseconds, for the states' ages. */
  now: () => number;
}

/** A cell taking part in a round: it answered (now or before) and is not evacuating. */
export interface ParticipatingCell {
  presence: CellPresence;
  state: CellState;
}

export interface RoundCells {
  cells: ParticipatingCell[];
  /** How many cells were asked for their state in this round. */
  asked: number;
  /** Whether every registered cell was asked in this round (nothing known was reused). */
  allAsked: boolean;
  /** The cells whose known states were reused rather than asked for in this round. */
  reused: ReadonlySet<string>;
}

interface KnownCell {
  repAddress: string;
  /** The cell's answer, with our placements since the question added; null: it did not answer. */
  state: CellState | null;
  /** When the question this answers was sent. */
  askedAt: number;
}

/** A question out to a cell; placements committed meanwhile are added to its answer. */
interface Question {
  repAddress: string;
  placedSince: Work[];
  /** The cell's answer as remembered; null when none came. */
  answer: Promise<CellState | null>;
}

/**
 * @example
 *   const states = new CellStates({ rep, logger, timeoutMs: 1000, maxAgeMs: 10_000, refreshTickMs: 1000, now: Date.now });
 *   const { cells } = await states.reusing(presences);   // asks only the cells it knows nothing of
 *   states.placed(cellId, acceptedWork);
 *   states.startRefreshing(); ... states.stopRefreshing();
 */
export class CellStates {
  private readonly known = new Map<string, KnownCell>();
  private readonly questions = new Map<string, Question>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** Cells registered when the last round ran: the ones the background keeps current. */
  private presences: readonly CellPresence[] = [];

  constructor(private readonly options: CellStatesOptions) {}

  /** The cells taking part, asking only those whose state is unknown (new, forgotten, moved). */
  reusing(presences: readonly CellPresence[]): Promise<RoundCells> {
    return this.round(presences, false);
  }

  /** The cells taking part, every one asked now. */
  askingAll(presences: readonly CellPresence[]): Promise<RoundCells> {
    return this.round(presences, true);
  }

  /** Asks the cells it knows nothing of, once: as leadership begins, so that the first round need not wait. */
  async learn(presences: readonly CellPresence[]): Promise<void> {
    this.presences = presences;
    const unknown = presences.filter((presence) => !this.known.has(presence.cell_id) && !this.questions.has(presence.cell_id));
    await Promise.all(unknown.map((presence) => this.ask(presence, this.options.timeoutMs)));
  }

  /** The cell took `work`: its known state (and the answer to a question out to it) reserves it. */
  placed(cellId: string, work: Work): void {
    const known = this.known.get(cellId);
    if (known?.state != null) known.state = stateWithWork(known.state, work);
    this.questions.get(cellId)?.placedSince.push(work);
  }

  /** What we know of the cell may be wrong: the next round asks it, and an answer already on its way is dropped. */
  forget(cellId: string): void {
    this.known.delete(cellId);
    this.questions.delete(cellId);
  }

  /** Forgets every cell: for a new leadership, when another leader may have placed work meanwhile. */
  forgetAll(): void {
    this.known.clear();
    this.questions.clear();
  }

  /** Keeps known states younger than about `maxAgeMs` in the background until stopped. */
  startRefreshing(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setInterval(() => {
      if (this.refreshing !== null) return;
      this.refreshing = this.refreshOldest().finally(() => {
        this.refreshing = null;
      });
    }, this.options.refreshTickMs);
    this.refreshTimer.unref();
  }

  /** Stops the background and waits for its questions; what is known stays known. */
  async stopRefreshing(): Promise<void> {
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    await this.refreshing;
  }

  private async round(presences: readonly CellPresence[], fresh: boolean): Promise<RoundCells> {
    this.presences = presences;
    const registered = new Set(presences.map((presence) => presence.cell_id));
    for (const cellId of this.known.keys()) if (!registered.has(cellId)) this.forget(cellId);

    const states = new Map<string, CellState>();
    const reused = new Set<string>();
    const toAsk: CellPresence[] = [];
    for (const presence of presences) {
      const known = this.known.get(presence.cell_id);
      if (fresh || known === undefined || known.repAddress !== presence.rep_address) {
        toAsk.push(presence);
      } else if (known.state !== null) {
        states.set(presence.cell_id, known.state);
        reused.add(presence.cell_id);
      }
    }
    let timeoutMs = this.options.timeoutMs;
    for (let attempt = 0; ; attempt++, timeoutMs *= 2) {
      // A question already out to a cell (learning it) answers a round that reuses what it can.
      const answers = await Promise.all(toAsk.map((presence) => {
        const out = this.questions.get(presence.cell_id);
        return !fresh && attempt === 0 && out?.repAddress === presence.rep_address ? out.answer : this.ask(presence, timeoutMs);
      }));
      answers.forEach((state, i) => {
        const presence = toAsk[i];
        if (state !== null && presence !== undefined) states.set(presence.cell_id, state);
      });
      if (states.size > 0 || toAsk.length === 0 || attempt === STATE_RETRIES) break;
    }
    const cells: ParticipatingCell[] = [];
    for (const presence of presences) {
      const state = states.get(presence.cell_id);
      if (state === undefined || state.Evacuating) continue;
      cells.push({ presence, state });
    }
    return { cells, asked: toAsk.length, allAsked: toAsk.length === presences.length, reused };
  }

  /**
   * Asks one cell and remembers the answer (with what was placed on the cell meanwhile), or that none came.
   * Resolves with the answer itself, null when there was none.
   */
  private ask(presence: CellPresence, timeoutMs: number): Promise<CellState | null> {
    const question: Question = { repAddress: presence.rep_address, placedSince: [], answer: Promise.resolve(null) };
    this.questions.set(presence.cell_id, question);
    question.answer = this.awaitAnswer(presence, timeoutMs, question);
    return question.answer;
  }

  private async awaitAnswer(presence: CellPresence, timeoutMs: number, question: Question): Promise<CellState | null> {
    const cellId = presence.cell_id;
    const askedAt = this.options.now();
    let answer: CellState | null = null;
    try {
      answer = await this.options.rep.state(presence, timeoutMs);
    } catch (err) {
      this.options.logger.error({ cell_id: cellId, timeout_ms: timeoutMs, err: convertError(err).message }, 'failed-to-get-cell-state');
    }
    // Forgotten or asked again meanwhile: this answer may predate what made us forget it.
    if (this.questions.get(cellId) !== question) return answer;
    this.questions.delete(cellId);
    const state = answer === null ? null : question.placedSince.reduce(stateWithWork, answer);
    if (state?.Evacuating === true && this.known.get(cellId)?.state?.Evacuating !== true) {
      this.options.logger.info({ cell_id: cellId }, 'skipping-evacuating-cell');
    }
    this.known.set(cellId, { repAddress: presence.rep_address, state, askedAt });
    return state;
  }

  /**
   * Asks again the cells that did not answer last time (they take no part in rounds until they do: on a busy
   * machine many miss their first timeout) and those whose states are older than `maxAgeMs`, the oldest first,
   * as many of the latter per tick as keep the whole set within about `maxAgeMs`.
   */
  private async refreshOldest(): Promise<void> {
    const { maxAgeMs, timeoutMs } = this.options;
    const now = this.options.now();
    const perTick = Math.max(1, Math.ceil((this.known.size * (this.options.refreshTickMs)) / maxAgeMs));
    const silent: CellPresence[] = [];
    const aged: { presence: CellPresence; askedAt: number }[] = [];
    for (const presence of this.presences) {
      const known = this.known.get(presence.cell_id);
      if (known === undefined || known.repAddress !== presence.rep_address || this.questions.has(presence.cell_id)) continue;
      if (known.state === null) silent.push(presence);
      else if (now - known.askedAt >= maxAgeMs) aged.push({ presence, askedAt: known.askedAt });
    }
    const due = [...silent, ...aged.sort((a, b) => a.askedAt - b.askedAt).slice(0, perTick).map(({ presence }) => presence)];
    await Promise.all(due.map((presence) => this.ask(presence, timeoutMs)));
  }
}
