/**
 * The dashboard page: apps, tasks, cells, domains and the event stream of one Diego cluster, live.
 *
 * Nothing is polled. The page reads one page of each list through the receptor's paged routes, and follows
 * GET /v1/events (the LRP events), GET /v1/task_events and GET /v1/cluster_events (cells and domains); an event
 * that touches what is on screen makes the page read that again (one read at a time: events arriving meanwhile are
 * answered by one more read). A cell whose presence goes (removed, or its lease expired) leaves the cells view at
 * once; one that appears or changes, or an actual LRP event, makes the view read again. A domain set fresh makes
 * the domains view read again (for its TTL), which counts down here; one that expires leaves it at once.
 *
 * With a package service (the receptor's -packagesURL, read from config.json at start), the Packages view
 * (packages-view.ts) calls it from the page; signing in signs in to both.
 */
import {
  describeFailure, getJson, onUnauthorized, send, session, signIn, withQuery,
  type ActualLRP, type CellPage, type DashboardPageConfig, type DesiredLRP, type DesiredLRPSummaryPage, type DomainFreshness,
  type ImageConfig, type Task, type TaskPage,
} from './api.js';
import { byId, h, replace, timeOf } from './dom.js';
import { desiredLrpRequest, imageDefaults, taskRequest, type AppFields, type TaskFields } from './forms.js';
import { PackageService } from './packages-api.js';
import { PackagesView } from './packages-view.js';
import { act, field, jsonForm, Reload, showFailure, showNotice } from './ui.js';

const PAGE_SIZE = 50;
const EVENTS_KEPT = 300;
const VIEWS = ['apps', 'tasks', 'cells', 'domains', 'events', 'packages'] as const;
type ViewName = (typeof VIEWS)[number];

// ---------------------------------------------------------------------------------------------------------
// Shared pieces

function stateBadge(state: string): HTMLSpanElement {
  return h('span', { class: `state state-${state}` }, state);
}

/** "1–50 of 200,000" with previous and next buttons. */
function renderPager(pager: HTMLElement, offset: number, shown: number, total: number, go: (offset: number) => void, what: string): void {
  const range = total === 0 ? `no ${what}` : `${offset + 1}–${offset + shown} of ${total.toLocaleString('en')} ${what}`;
  replace(
    pager,
    h('button', { type: 'button', class: 'secondary', disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }, 'Previous'),
    h('span', {}, range),
    h('button', { type: 'button', class: 'secondary', disabled: offset + shown >= total, onclick: () => go(offset + PAGE_SIZE) }, 'Next'),
  );
}

/** Calls `handler` once typing has paused, so that a search is not sent per key. */
function onPause(input: HTMLInputElement, handler: () => void): void {
  let timer: number | undefined;
  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(handler, 250);
  });
}

/** Follows a log (GET /v1/logs/:log_guid?follow=true) into `target` until `signal` aborts. */
async function followLogs(logGuid: string, target: HTMLPreElement, signal: AbortSignal): Promise<void> {
  const response = await send('GET', `/v1/logs/${encodeURIComponent(logGuid)}?follow=true`, { signal });
  if (response.body === null) throw new Error('logs: the receptor answered without a body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line !== '') target.append(logLineText(line));
    }
    target.scrollTop = target.scrollHeight;
  }
}

function logLineText(json: string): string {
  try {
    const parsed = JSON.parse(json) as { timestamp?: string; index?: number; source?: string; line?: string };
    const where = parsed.index === undefined ? '' : `[${parsed.index}] `;
    return `${parsed.timestamp ?? ''} ${where}${parsed.line ?? json}\n`;
  } catch {
    return `${json}\n`;
  }
}

/** A logs panel with a follow/stop button. */
function logsPanel(logGuid: string, heading: string): HTMLElement {
  const output = h('pre', { class: 'logs', 'aria-live': 'off', tabindex: 0, 'aria-label': `Logs of ${logGuid}` });
  let following: AbortController | null = null;
  const button = h('button', { type: 'button', class: 'secondary' }, 'Follow logs');
  button.addEventListener('click', () => {
    if (following !== null) {
      following.abort();
      following = null;
      button.textContent = 'Follow logs';
      return;
    }
    const controller = new AbortController();
    following = controller;
    output.textContent = '';
    button.textContent = 'Stop following';
    followLogs(logGuid, output, controller.signal).catch((err: unknown) => {
      if (!controller.signal.aborted) showFailure(err);
    });
  });
  return h('div', { class: 'logs-panel' }, h('h3', {}, heading), button, output);
}

// ---------------------------------------------------------------------------------------------------------
// Apps

interface AppsState {
  domain: string;
  search: string;
  offset: number;
  guids: Set<string>;
  selected: string | null;
}

const apps: AppsState = { domain: '', search: '', offset: 0, guids: new Set(), selected: null };

const appsReload = new Reload(async () => {
  const page = await getJson<DesiredLRPSummaryPage>(withQuery('/v1/desired_lrp_summaries', {
    domain: apps.domain, search: apps.search, offset: apps.offset, limit: PAGE_SIZE,
  }));
  if (page.desired_lrps.length === 0 && page.total > 0 && apps.offset > 0) {
    apps.offset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    appsReload.request();
    return;
  }
  renderAppDomains(page.domains);
  apps.guids = new Set(page.desired_lrps.map((lrp) => lrp.process_guid));
  const body = byId('apps-table', HTMLTableElement).tBodies[0];
  if (body === undefined) return;
  replace(body, ...page.desired_lrps.map((lrp) => {
    const counts = lrp.actual_lrps;
    return h('tr', { 'data-guid': lrp.process_guid, 'aria-selected': lrp.process_guid === apps.selected ? 'true' : 'false' },
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => selectApp(lrp.process_guid) }, lrp.process_guid)),
      h('td', {}, lrp.domain),
      h('td', { class: 'num' }, lrp.instances),
      h('td', { class: 'num', 'data-state': 'UNCLAIMED' }, counts.UNCLAIMED),
      h('td', { class: 'num', 'data-state': 'CLAIMED' }, counts.CLAIMED),
      h('td', { class: 'num', 'data-state': 'RUNNING' }, counts.RUNNING),
      h('td', { class: 'num', 'data-state': 'CRASHED' }, counts.CRASHED),
      h('td', { class: 'num' }, `${lrp.memory_mb} MB`),
      h('td', { class: 'num' }, `${lrp.disk_mb} MB`));
  }));
  byId('apps-count', HTMLParagraphElement).textContent = `${page.total.toLocaleString('en')} apps${apps.domain === '' ? '' : ` in ${apps.domain}`}${apps.search === '' ? '' : ` matching “${apps.search}”`}`;
  renderPager(byId('apps-pager', HTMLElement), apps.offset, page.desired_lrps.length, page.total, (offset) => {
    apps.offset = offset;
    appsReload.request();
  }, 'apps');
});

function renderAppDomains(domains: readonly string[]): void {
  const select = byId('app-domain', HTMLSelectElement);
  const known = [...select.options].map((option) => option.value).filter((value) => value !== '');
  if (known.join('\n') === domains.join('\n')) return;
  const current = select.value;
  replace(select, h('option', { value: '' }, 'all domains'), ...domains.map((domain) => h('option', { value: domain }, domain)));
  select.value = domains.includes(current) ? current : '';
}

function selectApp(guid: string | null): void {
  apps.selected = guid;
  for (const row of byId('apps-table', HTMLTableElement).querySelectorAll('tbody tr')) {
    row.setAttribute('aria-selected', row.getAttribute('data-guid') === guid ? 'true' : 'false');
  }
  appDetail.close();
  if (guid !== null) appDetail.open(guid);
}

/** The selected app: what it wants, its instances, its actions and its logs. */
class AppDetail {
  private guid: string | null = null;
  private logsGuid: string | null = null;
  private readonly section = byId('app-detail', HTMLElement);
  private readonly reload = new Reload(() => this.load());
  private instancesBody: HTMLTableSectionElement | null = null;
  private facts: HTMLElement | null = null;

  open(guid: string): void {
    this.guid = guid;
    this.logsGuid = null;
    this.section.hidden = false;
    replace(this.section, h('h3', { id: 'app-detail-heading', tabindex: -1 }, `App ${guid}`), h('p', {}, 'Loading…'));
    this.instancesBody = null;
    this.reload.request();
  }

  close(): void {
    this.guid = null;
    this.section.hidden = true;
    replace(this.section);
  }

  /** An event about `guid` happened. */
  touched(guid: string): void {
    if (guid === this.guid) this.reload.request();
  }

  private async load(): Promise<void> {
    const guid = this.guid;
    if (guid === null) return;
    let desired: DesiredLRP;
    try {
      desired = await getJson<DesiredLRP>(`/v1/desired_lrps/${encodeURIComponent(guid)}`);
    } catch (err) {
      if (this.guid !== guid) return;
      replace(this.section, h('h3', { id: 'app-detail-heading' }, `App ${guid}`), h('p', { class: 'state-gone' }, describeFailure(err)),
        h('button', { type: 'button', class: 'secondary', onclick: () => selectApp(null) }, 'Close'));
      return;
    }
    const actuals = await getJson<Array<ActualLRP | null>>(`/v1/actual_lrps/${encodeURIComponent(guid)}`);
    if (this.guid !== guid) return;
    if (this.instancesBody === null || this.logsGuid !== desired.log_guid) this.build(desired);
    this.renderFacts(desired);
    const instances = actuals.filter((actual): actual is ActualLRP => actual !== null).sort((a, b) => a.index - b.index);
    if (this.instancesBody !== null) replace(this.instancesBody, ...instances.map((actual) => this.instanceRow(actual)));
  }

  private build(desired: DesiredLRP): void {
    const guid = desired.process_guid;
    this.logsGuid = desired.log_guid;
    const scaleInput = h('input', { type: 'number', min: 0, value: desired.instances, id: 'scale-instances', inputmode: 'numeric' });
    this.facts = h('dl', { class: 'facts' });
    this.instancesBody = h('tbody');
    replace(
      this.section,
      h('h3', { id: 'app-detail-heading', tabindex: -1 }, `App ${guid}`),
      this.facts,
      h('form', { class: 'actions', onsubmit: (event: Event) => {
        event.preventDefault();
        void act(() => send('PUT', `/v1/desired_lrps/${encodeURIComponent(guid)}`, { body: JSON.stringify({ instances: Number(scaleInput.value) }) }));
      } },
      h('label', {}, 'Instances', scaleInput),
      h('button', { type: 'submit' }, 'Scale'),
      h('button', { type: 'button', class: 'danger', onclick: () => {
        if (!window.confirm(`Delete the app ${guid} and stop its instances?`)) return;
        void act(async () => {
          await send('DELETE', `/v1/desired_lrps/${encodeURIComponent(guid)}`);
          selectApp(null);
        });
      } }, 'Delete app'),
      h('button', { type: 'button', class: 'secondary', onclick: () => selectApp(null) }, 'Close')),
      h('div', { class: 'scroll' }, h('table', { id: 'instances-table' },
        h('caption', { class: 'count' }, 'Instances'),
        h('thead', {}, h('tr', {}, ...['Index', 'State', 'Cell', 'Address', 'Crashes', 'Crash reason', 'Since', 'Actions'].map((name) => h('th', { scope: 'col' }, name)))),
        this.instancesBody)),
      desired.log_guid === '' ? h('p', { class: 'count' }, 'This app has no log_guid: its output is not kept by the cells under a name.') : logsPanel(desired.log_guid, 'Logs'),
    );
  }

  private renderFacts(desired: DesiredLRP): void {
    if (this.facts === null) return;
    const fact = (name: string, value: string): Node[] => [h('dt', {}, name), h('dd', {}, value)];
    replace(this.facts,
      ...fact('Domain', desired.domain),
      ...fact('Rootfs', desired.rootfs),
      ...fact('Instances wanted', String(desired.instances)),
      ...fact('Memory, disk', `${desired.memory_mb} MB, ${desired.disk_mb} MB`),
      ...fact('Ports', (desired.ports ?? []).join(', ') || 'none'),
      ...fact('Routes', Object.keys(desired.routes ?? {}).length === 0 ? 'none' : JSON.stringify(desired.routes)));
  }

  private instanceRow(actual: ActualLRP): HTMLTableRowElement {
    const links = (actual.ports ?? []).map((port) => {
      const url = `http://${actual.address}:${port.host_port}/`;
      return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `container port ${port.container_port}` }, `${actual.address}:${port.host_port}`);
    });
    const address = links.length === 0 ? (actual.address === '' ? '—' : actual.address) : h('span', {}, ...links.flatMap((link, i) => (i === 0 ? [link] : [' ', link])));
    return h('tr', { 'data-index': actual.index, 'data-state': actual.state, 'data-instance-guid': actual.instance_guid },
      h('td', { class: 'num' }, actual.index),
      h('td', {}, stateBadge(actual.state), actual.evacuating ? ' (evacuating)' : ''),
      h('td', {}, actual.cell_id === '' ? '—' : actual.cell_id),
      h('td', {}, address),
      h('td', { class: 'num' }, actual.crash_count),
      h('td', {}, actual.crash_reason ?? actual.placement_error ?? ''),
      h('td', {}, timeOf(actual.since)),
      h('td', {}, h('button', { type: 'button', class: 'small danger', 'aria-label': `Kill instance ${actual.index}`, onclick: () => {
        void act(() => send('DELETE', `/v1/actual_lrps/${encodeURIComponent(actual.process_guid)}/index/${actual.index}`));
      } }, 'Kill')));
  }
}

const appDetail = new AppDetail();

// ---------------------------------------------------------------------------------------------------------
// Tasks

const tasks = { state: '', search: '', offset: 0, guids: new Set<string>(), selected: null as string | null };

const tasksReload = new Reload(async () => {
  const page = await getJson<TaskPage>(withQuery('/v1/task_summaries', { state: tasks.state, search: tasks.search, offset: tasks.offset, limit: PAGE_SIZE }));
  tasks.guids = new Set(page.tasks.map((task) => task.task_guid));
  const body = byId('tasks-table', HTMLTableElement).tBodies[0];
  if (body === undefined) return;
  replace(body, ...page.tasks.map(taskRow));
  byId('tasks-count', HTMLParagraphElement).textContent = `${page.total.toLocaleString('en')} tasks`;
  renderPager(byId('tasks-pager', HTMLElement), tasks.offset, page.tasks.length, page.total, (offset) => {
    tasks.offset = offset;
    tasksReload.request();
  }, 'tasks');
  if (tasks.selected !== null) renderTaskDetail(page.tasks.find((task) => task.task_guid === tasks.selected) ?? null);
});

function taskRow(task: Task): HTMLTableRowElement {
  const guid = encodeURIComponent(task.task_guid);
  const outcome = task.state === 'COMPLETED' || task.state === 'RESOLVING'
    ? (task.failed ? h('span', { class: 'state-failed' }, `failed: ${task.failure_reason}`) : h('code', {}, task.result === '' ? '(no result)' : task.result))
    : '';
  return h('tr', { 'data-guid': task.task_guid, 'aria-selected': task.task_guid === tasks.selected ? 'true' : 'false' },
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => {
      tasks.selected = task.task_guid;
      renderTaskDetail(task);
    } }, task.task_guid)),
    h('td', {}, task.domain),
    h('td', {}, stateBadge(task.state)),
    h('td', {}, task.cell_id === '' ? '—' : task.cell_id),
    h('td', {}, outcome),
    h('td', {}, timeOf(task.created_at)),
    h('td', {},
      task.state === 'PENDING' || task.state === 'RUNNING'
        ? h('button', { type: 'button', class: 'small danger', onclick: () => void act(() => send('POST', `/v1/tasks/${guid}/cancel`)) }, 'Cancel')
        : h('button', { type: 'button', class: 'small danger', onclick: () => {
          if (window.confirm(`Delete the task ${task.task_guid}?`)) void act(() => send('DELETE', `/v1/tasks/${guid}`));
        } }, 'Delete')));
}

let taskLogsFor: string | null = null;

function renderTaskDetail(task: Task | null): void {
  const section = byId('task-detail', HTMLElement);
  if (task === null) {
    if (tasks.selected !== null) replace(section, h('h3', { id: 'task-detail-heading' }, `Task ${tasks.selected}`), h('p', {}, 'Not on this page (deleted, or filtered out).'));
    return;
  }
  section.hidden = false;
  const fact = (name: string, value: string): Node[] => [h('dt', {}, name), h('dd', {}, value)];
  const facts = h('dl', { class: 'facts', id: 'task-facts' },
    ...fact('State', task.state), ...fact('Cell', task.cell_id || '—'), ...fact('Rootfs', task.rootfs),
    ...fact('Result', task.result), ...fact('Failed', task.failed ? `yes: ${task.failure_reason}` : 'no'));
  const existing = section.querySelector('#task-facts');
  if (taskLogsFor === task.task_guid && existing !== null) {
    existing.replaceWith(facts);
    return;
  }
  taskLogsFor = task.task_guid;
  replace(section, h('h3', { id: 'task-detail-heading' }, `Task ${task.task_guid}`), facts,
    task.log_guid === '' ? h('p', { class: 'count' }, 'This task has no log_guid.') : logsPanel(task.log_guid, 'Logs'),
    h('button', { type: 'button', class: 'secondary', onclick: () => {
      tasks.selected = null;
      taskLogsFor = null;
      section.hidden = true;
      replace(section);
    } }, 'Close'));
}

// ---------------------------------------------------------------------------------------------------------
// Cells

const cells = { offset: 0, selected: null as string | null };
/**
 * Cells whose presence went since they last appeared: kept off the view even when a read answered just before
 * the BBS saw them go.
 */
const goneCells = new Set<string>();

const cellsReload = new Reload(async () => {
  const page = await getJson<CellPage>(withQuery('/v1/cell_summaries', { offset: cells.offset, limit: PAGE_SIZE }));
  const body = byId('cells-table', HTMLTableElement).tBodies[0];
  if (body === undefined) return;
  const used = (inUse: number | undefined, total: number, unit: string): string => (inUse === undefined ? `? of ${total}${unit}` : `${inUse} of ${total}${unit}`);
  replace(body, ...page.cells.filter((cell) => !goneCells.has(cell.cell_id)).map((cell) => h('tr', { 'data-cell': cell.cell_id, 'aria-selected': cell.cell_id === cells.selected ? 'true' : 'false' },
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => {
      cells.selected = cell.cell_id;
      cellDetailReload.request();
    } }, cell.cell_id)),
    h('td', {}, cell.zone),
    h('td', { class: 'num' }, used(cell.in_use?.memory_mb, cell.capacity.memory_mb, ' MB')),
    h('td', { class: 'num' }, used(cell.in_use?.disk_mb, cell.capacity.disk_mb, ' MB')),
    h('td', { class: 'num' }, used(cell.in_use?.containers, cell.capacity.containers, '')),
    h('td', { class: 'num' }, cell.lrps ?? '?'),
    h('td', { class: 'num' }, cell.tasks ?? '?'),
    h('td', {}, cell.state_error !== null
      ? h('span', { class: 'state state-gone', title: cell.state_error }, 'not answering')
      : cell.evacuating === true ? stateBadge('evacuating') : h('span', { class: 'state state-RUNNING' }, 'up')))));
  byId('cells-count', HTMLParagraphElement).textContent = `${page.total.toLocaleString('en')} cells`;
  renderPager(byId('cells-pager', HTMLElement), cells.offset, page.cells.length, page.total, (offset) => {
    cells.offset = offset;
    cellsReload.request();
  }, 'cells');
  if (cells.selected !== null && !page.cells.some((cell) => cell.cell_id === cells.selected)) cellDetailReload.request();
});

const cellDetailReload = new Reload(async () => {
  const section = byId('cell-detail', HTMLElement);
  const cellId = cells.selected;
  if (cellId === null) return;
  section.hidden = false;
  const instances = await getJson<Array<ActualLRP | null>>(`/v1/cells/${encodeURIComponent(cellId)}/actual_lrps`);
  const rows = instances.filter((actual): actual is ActualLRP => actual !== null).map((actual) => h('tr', {},
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => {
      location.hash = '#apps';
      selectApp(actual.process_guid);
    } }, actual.process_guid)),
    h('td', { class: 'num' }, actual.index),
    h('td', {}, stateBadge(actual.state))));
  replace(section, h('h3', { id: 'cell-detail-heading' }, `Instances on ${cellId}`),
    rows.length === 0 ? h('p', {}, 'None.') : h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'App'), h('th', { scope: 'col' }, 'Index'), h('th', { scope: 'col' }, 'State'))),
      h('tbody', {}, ...rows))),
    h('button', { type: 'button', class: 'secondary', onclick: () => {
      cells.selected = null;
      section.hidden = true;
      replace(section);
    } }, 'Close'));
});

// ---------------------------------------------------------------------------------------------------------
/** A cell's presence went: its row leaves at once, and its instances with it. */
function removeCell(cellId: string): void {
  goneCells.add(cellId);
  const row = byId('cells-table', HTMLTableElement).querySelector(`tr[data-cell="${CSS.escape(cellId)}"]`);
  if (row === null) return;
  row.remove();
  const count = byId('cells-count', HTMLParagraphElement);
  const total = Number((count.textContent ?? '').replace(/[^0-9]/g, ''));
  if (total > 0) count.textContent = `${(total - 1).toLocaleString('en')} cells`;
  if (cells.selected === cellId) {
    cells.selected = null;
    const section = byId('cell-detail', HTMLElement);
    section.hidden = true;
    replace(section);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Domains: each TTL counts down here; a domain set fresh makes the list read again (for its TTL), one that expires
// leaves it at once.

let domainDeadlines: Array<{ domain: string; expiresAt: number | null }> = [];
let countdown: number | undefined;

const domainsReload = new Reload(async () => {
  const domains = await getJson<DomainFreshness[]>('/v1/domain_freshness');
  const now = Date.now();
  domainDeadlines = domains.map((domain) => ({ domain: domain.domain, expiresAt: domain.ttl_seconds === null ? null : now + domain.ttl_seconds * 1000 }));
  renderDomains();
  window.clearInterval(countdown);
  if (domainDeadlines.some((domain) => domain.expiresAt !== null)) countdown = window.setInterval(renderDomains, 1000);
});

function renderDomains(): void {
  const body = byId('domains-table', HTMLTableElement).tBodies[0];
  if (body === undefined) return;
  const now = Date.now();
  replace(body, ...(domainDeadlines.length === 0
    ? [h('tr', {}, h('td', { colspan: 2 }, 'No fresh domain: the converger retires no extra or undesired instance of a domain that is not fresh.'))]
    : domainDeadlines.map((domain) => h('tr', { 'data-domain': domain.domain },
      h('td', {}, domain.domain),
      h('td', { class: 'ttl' }, domain.expiresAt === null ? 'for ever' : `${Math.max(0, Math.ceil((domain.expiresAt - now) / 1000))} s`)))));
}

function removeDomain(domain: string): void {
  domainDeadlines = domainDeadlines.filter((fresh) => fresh.domain !== domain);
  renderDomains();
}

// ---------------------------------------------------------------------------------------------------------
// Events

function eventSummary(type: string, data: Record<string, unknown>): string {
  const actual = (value: unknown): string => {
    const lrp = value as ActualLRP | null;
    return lrp === null ? 'none' : `${lrp.process_guid}[${lrp.index}] ${lrp.state}${lrp.cell_id === '' ? '' : ` on ${lrp.cell_id}`}`;
  };
  const guidOf = (value: unknown, key: string): string => String((value as Record<string, unknown> | null)?.[key] ?? '');
  switch (type) {
    case 'actual_lrp_changed':
      return `${actual(data.actual_lrp_before)} → ${actual(data.actual_lrp_after)}`;
    case 'actual_lrp_created':
    case 'actual_lrp_removed':
      return actual(data.actual_lrp);
    case 'desired_lrp_created':
    case 'desired_lrp_removed':
      return guidOf(data.desired_lrp, 'process_guid');
    case 'desired_lrp_changed':
      return guidOf(data.desired_lrp_after, 'process_guid');
    case 'task_changed': {
      const before = data.task_before as Task;
      const after = data.task_after as Task;
      return `${after.task_guid} ${before.state} → ${after.state}`;
    }
    case 'cell_appeared':
    case 'cell_changed':
      return guidOf(data.cell, 'cell_id');
    case 'cell_disappeared':
      return String(data.cell_id);
    case 'domain_fresh':
    case 'domain_expired':
      return String(data.domain);
    default: {
      const task = data.task as Task | undefined;
      return task === undefined ? '' : `${task.task_guid} ${task.state}`;
    }
  }
}

function recordEvent(type: string, data: Record<string, unknown>): void {
  const list = byId('events-list', HTMLOListElement);
  const now = new Date();
  list.prepend(h('li', {}, h('time', { datetime: now.toISOString() }, now.toLocaleTimeString('en-GB')), h('span', { class: 'type' }, type), h('span', {}, eventSummary(type, data))));
  while (list.children.length > EVENTS_KEPT) list.lastElementChild?.remove();
}

// ---------------------------------------------------------------------------------------------------------
// Streams

const LRP_EVENTS = ['desired_lrp_created', 'desired_lrp_changed', 'desired_lrp_removed', 'actual_lrp_created', 'actual_lrp_changed', 'actual_lrp_removed'];
const TASK_EVENTS = ['task_created', 'task_changed', 'task_removed'];
const CLUSTER_EVENTS = ['cell_appeared', 'cell_changed', 'cell_disappeared', 'domain_fresh', 'domain_expired'];

const liveStreams = new Map<string, boolean>();

function renderLive(): void {
  const live = byId('live', HTMLParagraphElement);
  const allLive = liveStreams.size > 0 && [...liveStreams.values()].every(Boolean);
  live.className = allLive ? 'live' : 'down';
  live.textContent = allLive ? 'live' : 'reconnecting…';
}

/**
 * Follows a server-sent event stream; the browser reconnects by itself (with Last-Event-ID) after a network
 * error. One the receptor refused (a 401 after the cookie went) is closed: the session is checked again.
 */
function follow(path: string, types: readonly string[], onEvent: (type: string, data: Record<string, unknown>) => void): void {
  const source = new EventSource(path);
  liveStreams.set(path, false);
  source.addEventListener('open', () => {
    liveStreams.set(path, true);
    renderLive();
  });
  source.addEventListener('error', () => {
    liveStreams.set(path, false);
    renderLive();
    if (source.readyState === EventSource.CLOSED) void restartAfterClose(path, types, onEvent);
  });
  for (const type of types) {
    source.addEventListener(type, (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as Record<string, unknown>;
      recordEvent(type, data);
      onEvent(type, data);
    });
  }
  // etcd no longer holds the history after our last event: read everything again and follow from now.
  source.addEventListener('compacted', () => {
    source.close();
    reloadAll();
    follow(path, types, onEvent);
  });
}

/** A refused stream is opened again after this long (the BBS may be down: no loop of refusals). */
const REOPEN_AFTER_MS = 3_000;

async function restartAfterClose(path: string, types: readonly string[], onEvent: (type: string, data: Record<string, unknown>) => void): Promise<void> {
  await new Promise((resolve) => window.setTimeout(resolve, REOPEN_AFTER_MS));
  const current = await session().catch(() => null);
  if (current !== null && !current.signed_in) {
    await askToSignIn();
  }
  reloadAll();
  follow(path, types, onEvent);
}

function processGuidsOf(data: Record<string, unknown>): string[] {
  const guids: string[] = [];
  for (const value of Object.values(data)) {
    const guid = (value as { process_guid?: unknown } | null)?.process_guid;
    if (typeof guid === 'string') guids.push(guid);
  }
  return guids;
}

function onLrpEvent(type: string, data: Record<string, unknown>): void {
  const guids = processGuidsOf(data);
  for (const guid of guids) appDetail.touched(guid);
  const appsChanged = type.startsWith('desired_lrp_') ? type !== 'desired_lrp_changed' || guids.some((guid) => apps.guids.has(guid)) : guids.some((guid) => apps.guids.has(guid));
  if (appsChanged && visible === 'apps') appsReload.request();
  if ((type === 'desired_lrp_created' || type === 'desired_lrp_removed') && visible === 'packages') packages?.view.appsChanged();
  if (type.startsWith('actual_lrp_') && visible === 'cells') {
    cellsReload.request();
    if (cells.selected !== null) cellDetailReload.request();
  }
}

function onTaskEvent(): void {
  if (visible === 'tasks') tasksReload.request();
}

function onClusterEvent(type: string, data: Record<string, unknown>): void {
  switch (type) {
    case 'cell_disappeared':
      removeCell(String(data.cell_id));
      return;
    case 'cell_appeared':
    case 'cell_changed':
      goneCells.delete(String((data.cell as { cell_id?: unknown } | null)?.cell_id));
      if (visible === 'cells') cellsReload.request();
      return;
    case 'domain_fresh':
      if (visible === 'domains') domainsReload.request();
      return;
    case 'domain_expired':
      removeDomain(String(data.domain));
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Views and navigation

let visible: ViewName = 'apps';

function viewFromHash(): ViewName {
  const name = location.hash.slice(1);
  const view = VIEWS.find((candidate) => candidate === name) ?? 'apps';
  return view === 'packages' && packages === null ? 'apps' : view;
}

function show(view: ViewName): void {
  visible = view;
  for (const name of VIEWS) byId(`view-${name}`, HTMLElement).hidden = name !== view;
  for (const link of document.querySelectorAll('header nav a')) {
    if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  reloadVisible();
}

/** What is on screen is read again (the others are read when shown). */
function reloadVisible(): void {
  if (visible === 'apps') appsReload.request();
  if (visible === 'tasks') tasksReload.request();
  if (visible === 'cells') cellsReload.request();
  if (visible === 'domains') domainsReload.request();
  if (visible === 'packages') packages?.view.reload();
}

function reloadAll(): void {
  reloadVisible();
  if (apps.selected !== null) appDetail.touched(apps.selected);
}

// ---------------------------------------------------------------------------------------------------------
// Forms

function appFields(form: HTMLFormElement): AppFields {
  const value = (name: keyof AppFields): string => field(form, name).value;
  return {
    processGuid: value('processGuid'), domain: value('domain'), rootfs: value('rootfs'), path: value('path'), args: value('args'),
    user: value('user'), instances: value('instances'), memoryMb: value('memoryMb'), diskMb: value('diskMb'), ports: value('ports'),
    env: value('env'), hostnames: value('hostnames'),
  };
}

function taskFields(form: HTMLFormElement): TaskFields {
  const value = (name: keyof TaskFields): string => field(form, name).value;
  return {
    taskGuid: value('taskGuid'), domain: value('domain'), rootfs: value('rootfs'), path: value('path'), args: value('args'),
    user: value('user'), memoryMb: value('memoryMb'), diskMb: value('diskMb'), resultFile: value('resultFile'),
  };
}

function setUpForms(): void {
  const appForm = jsonForm('app-dialog', 'app-form', 'app-json', 'app-error', (form) => desiredLrpRequest(appFields(form)),
    async (body) => {
      await send('POST', '/v1/desired_lrps', { body });
      const guid = (JSON.parse(body) as { process_guid?: unknown }).process_guid;
      if (typeof guid === 'string') selectApp(guid);
      appsReload.request();
    });
  byId('new-app', HTMLButtonElement).addEventListener('click', () => appForm.open());
  byId('image-defaults', HTMLButtonElement).addEventListener('click', () => {
    const error = byId('app-error', HTMLParagraphElement);
    error.textContent = '';
    const fields = appFields(appForm.form);
    getJson<ImageConfig>(withQuery('/v1/image_config', { rootfs: fields.rootfs.trim() })).then((config) => {
      for (const [name, value] of Object.entries(imageDefaults(config, fields))) field(appForm.form, name).value = value;
      appForm.rewrite();
    }, (err: unknown) => {
      error.textContent = describeFailure(err);
    });
  });

  const taskForm = jsonForm('task-dialog', 'task-form', 'task-json', 'task-error', (form) => taskRequest(taskFields(form)),
    async (body) => {
      await send('POST', '/v1/tasks', { body });
      tasksReload.request();
    });
  byId('new-task', HTMLButtonElement).addEventListener('click', () => taskForm.open());

  byId('domain-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const domain = byId('domain-name', HTMLInputElement).value.trim();
    const ttl = byId('domain-ttl', HTMLInputElement).value.trim();
    void act(async () => {
      await send('PUT', `/v1/domains/${encodeURIComponent(domain)}`, ttl === '' || ttl === '0' ? {} : { headers: { 'Cache-Control': `max-age=${ttl}` } });
      domainsReload.request();
    });
  });

  const domainSelect = byId('app-domain', HTMLSelectElement);
  domainSelect.addEventListener('change', () => {
    apps.domain = domainSelect.value;
    apps.offset = 0;
    appsReload.request();
  });
  const appSearch = byId('app-search', HTMLInputElement);
  onPause(appSearch, () => {
    apps.search = appSearch.value.trim();
    apps.offset = 0;
    appsReload.request();
  });
  byId('app-filter', HTMLFormElement).addEventListener('submit', (event) => event.preventDefault());
  const taskState = byId('task-state', HTMLSelectElement);
  taskState.addEventListener('change', () => {
    tasks.state = taskState.value;
    tasks.offset = 0;
    tasksReload.request();
  });
  const taskSearch = byId('task-search', HTMLInputElement);
  onPause(taskSearch, () => {
    tasks.search = taskSearch.value.trim();
    tasks.offset = 0;
    tasksReload.request();
  });
  byId('task-filter', HTMLFormElement).addEventListener('submit', (event) => event.preventDefault());
}

// ---------------------------------------------------------------------------------------------------------
// Signing in: asked once; the receptor keeps the credentials as its HttpOnly session cookie.

function askToSignIn(): Promise<void> {
  const dialog = byId('sign-in-dialog', HTMLDialogElement);
  const form = byId('sign-in-form', HTMLFormElement);
  const error = byId('sign-in-error', HTMLParagraphElement);
  if (dialog.open) return new Promise((resolve) => dialog.addEventListener('close', () => resolve(), { once: true }));
  return new Promise((resolve) => {
    const submit = (event: Event): void => {
      event.preventDefault();
      error.textContent = '';
      const username = field(form, 'username').value;
      const password = field(form, 'password').value;
      signIn(username, password).then(async () => {
        // The receptor took them: the package service is given them too (its cookie set before anything reads it
        // again), and a refusal there is shown, not asked again.
        await packages?.service.signIn(username, password).catch(showFailure);
        form.removeEventListener('submit', submit);
        field(form, 'password').value = '';
        dialog.close();
        resolve();
      }).catch((err: unknown) => {
        error.textContent = describeFailure(err);
      });
    };
    form.addEventListener('submit', submit);
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Packages: only when the receptor names a package service.

let packages: { service: PackageService; view: PackagesView } | null = null;

function showApp(processGuid: string): void {
  location.hash = '#apps';
  selectApp(processGuid);
}

async function start(): Promise<void> {
  onUnauthorized(() => {
    void askToSignIn().then(reloadAll);
  });
  setUpForms();
  const config = await getJson<DashboardPageConfig>('config.json');
  if (config.packages_url !== null) {
    const service = new PackageService(config.packages_url);
    packages = { service, view: new PackagesView(service, showApp) };
  }
  const current = await session();
  if (current.basic_auth && !current.signed_in) await askToSignIn();
  // The streams first: what changes while the first pages load is read again, never missed.
  follow('/v1/events', LRP_EVENTS, onLrpEvent);
  follow('/v1/task_events', TASK_EVENTS, onTaskEvent);
  follow('/v1/cluster_events', CLUSTER_EVENTS, onClusterEvent);
  window.addEventListener('hashchange', () => show(viewFromHash()));
  show(viewFromHash());
}

start().catch((err: unknown) => showNotice(describeFailure(err)));
