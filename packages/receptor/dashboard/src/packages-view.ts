/**
 * The Packages view: the package service's ordered repository list (add at a position, remove, fetch again; each
 * one's copy ok, stale or missing as the service says), search, a package's description (its versions and its
 * config schema's options), installs from a form generated from that schema with the request's JSON shown and
 * editable, and the installed packages (uninstall). Every error is Cosmos's `type: message` as the service answered
 * it; a form that failed keeps what was typed.
 */
import { describeFailure } from './api.js';
import { byId, h, replace } from './dom.js';
import {
  describeOptions, installRequest, optionFields, optionsFromFields, type InstallTarget, type OptionField,
} from './package-options.js';
import type {
  DescribeAnswer, InstallAnswer, InstalledList, PackageService, Repository, RepositoryList, SearchAnswer, SearchResult, UninstallAnswer,
} from './packages-api.js';
import { act, jsonForm, Reload } from './ui.js';

type Json = Record<string, unknown>;

/** `ok, 4 packages (fetched …)`, `stale: why (using the copy fetched …)`, `unreachable: why` */
function statusText(repository: Repository): string {
  const { status } = repository;
  const fetched = status.fetchedAt === undefined ? '' : ` fetched ${new Date(status.fetchedAt).toLocaleString('en-GB')}`;
  const count = `${status.packages} ${status.packages === 1 ? 'package' : 'packages'}`;
  if (status.state === 'ok') return `ok, ${count}${fetched}`;
  if (status.state === 'stale') return `stale: ${status.error ?? 'the last fetch failed'} (using the copy${fetched}, ${count})`;
  return `unreachable: ${status.error ?? 'not fetched yet'}`;
}

function statusClass(repository: Repository): string {
  return repository.status.state === 'ok' ? 'state state-RUNNING' : repository.status.state === 'stale' ? 'state state-UNCLAIMED' : 'state state-CRASHED';
}

/** The versions a search listed for a package, newest release first. */
function versionsOf(result: SearchResult | undefined): string[] {
  if (result === undefined) return [];
  return Object.entries(result.versions).sort(([, a], [, b]) => Number(b) - Number(a)).map(([version]) => version);
}

function textField(form: HTMLFormElement, name: string): string {
  const element = form.elements.namedItem(name);
  return element instanceof HTMLInputElement || element instanceof HTMLSelectElement ? element.value : '';
}

export class PackagesView {
  private results: SearchResult[] = [];
  private described: DescribeAnswer | null = null;
  /** The release the install dialog is for, and the fields generated from its schema. */
  private installing: { target: InstallTarget; fields: OptionField[] } | null = null;
  private readonly repositoriesReload = new Reload(async () => this.renderRepositories(await this.service.call<RepositoryList>('/package/repository/list', {})));
  private readonly installedReload = new Reload(async () => this.renderInstalled(await this.service.call<InstalledList>('/package/list', {})));
  private readonly installForm: { open(): void; form: HTMLFormElement; rewrite(): void };

  constructor(
    private readonly service: PackageService,
    /** Shows an app in the Apps view. */
    private readonly showApp: (processGuid: string) => void,
  ) {
    byId('nav-packages', HTMLLIElement).hidden = false;
    byId('packages-service', HTMLParagraphElement).textContent = `From the package service at ${service.url}.`;
    this.setUpRepositoryForm();
    this.setUpSearch();
    this.installForm = jsonForm('install-dialog', 'install-form', 'install-json', 'install-error', (form) => this.installBody(form), async (body) => {
      const answer = await this.service.call<InstallAnswer>('/package/install', JSON.parse(body) as unknown);
      this.renderInstalledNote(answer);
      this.installedReload.request();
    });
  }

  /** The view is shown: what it lists is read again. */
  reload(): void {
    this.repositoriesReload.request();
    this.installedReload.request();
  }

  /** An app was desired or removed somewhere: it may be an install. */
  appsChanged(): void {
    this.installedReload.request();
  }

  // ---- repositories ----

  private setUpRepositoryForm(): void {
    const form = byId('repo-form', HTMLFormElement);
    const error = byId('repo-error', HTMLParagraphElement);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      const index = textField(form, 'index').trim();
      const body: Json = {
        name: textField(form, 'name').trim(),
        uri: textField(form, 'uri').trim(),
        // A position that is no number is sent as typed, for the service to say what is wrong with it.
        ...(index === '' ? {} : { index: /^-?\d+$/.test(index) ? Number(index) : index }),
      };
      this.service.call<RepositoryList>('/package/repository/add', body).then((list) => {
        form.reset();
        this.renderRepositories(list);
      }, (err: unknown) => {
        error.textContent = describeFailure(err);
      });
    });
    byId('repo-refresh', HTMLButtonElement).addEventListener('click', () => {
      void act(async () => this.renderRepositories(await this.service.call<RepositoryList>('/package/repository/refresh', {})));
    });
  }

  private renderRepositories(list: RepositoryList): void {
    const body = byId('repos-table', HTMLTableElement).tBodies[0];
    if (body === undefined) return;
    replace(body, ...(list.repositories.length === 0
      ? [h('tr', {}, h('td', { colspan: 5 }, 'No repository: add one above.'))]
      : list.repositories.map((repository, position) => h('tr', { 'data-repository': repository.name },
        h('td', { class: 'num' }, position),
        h('td', {}, repository.name),
        h('td', { class: 'uri' }, repository.uri),
        h('td', {}, h('span', { class: statusClass(repository), 'data-status': repository.status.state }, statusText(repository))),
        h('td', {}, h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove repository ${repository.name}`, onclick: () => {
          if (!window.confirm(`Remove the repository ${repository.name}? Installed packages stay installed.`)) return;
          void act(async () => this.renderRepositories(await this.service.call<RepositoryList>('/package/repository/delete', { name: repository.name })));
        } }, 'Remove'))))));
  }

  // ---- search and describe ----

  private setUpSearch(): void {
    byId('package-search-form', HTMLFormElement).addEventListener('submit', (event) => {
      event.preventDefault();
      void act(() => this.search(byId('package-query', HTMLInputElement).value.trim()));
    });
  }

  private async search(query: string): Promise<void> {
    const answer = await this.service.call<SearchAnswer>('/package/search', { query });
    this.results = answer.packages;
    const unavailable = (answer.repositories ?? []).map((repository) => `${repository.name} (${statusText(repository)})`);
    byId('package-results-count', HTMLParagraphElement).textContent =
      `${answer.packages.length} packages${query === '' ? '' : ` matching “${query}”`}${unavailable.length === 0 ? '' : `; from an older copy or not at all: ${unavailable.join('; ')}`}`;
    const body = byId('package-results', HTMLTableElement).tBodies[0];
    if (body === undefined) return;
    replace(body, ...answer.packages.map((result) => h('tr', { 'data-package': result.name },
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void act(() => this.describe(result.name, null)) }, result.name)),
      h('td', {}, result.currentVersion),
      h('td', {}, result.description),
      h('td', {}, result.tags.join(', ')),
      h('td', {}, result.repository))));
  }

  private async describe(name: string, version: string | null): Promise<void> {
    const answer = await this.service.call<DescribeAnswer>('/package/describe', { packageName: name, ...(version === null ? {} : { packageVersion: version }) });
    this.described = answer;
    this.renderDescription(answer);
  }

  private renderDescription({ package: release, repository }: DescribeAnswer): void {
    const section = byId('package-detail', HTMLElement);
    section.hidden = false;
    const versions = versionsOf(this.results.find((result) => result.name === release.name));
    const versionSelect = h('select', { id: 'package-version', 'aria-label': 'Version', onchange: () => void act(() => this.describe(release.name, versionSelect.value)) },
      ...(versions.length === 0 ? [release.version] : versions).map((version) => h('option', { value: version, selected: version === release.version }, version)));
    const fact = (name: string, value: Node | string): Node[] => [h('dt', {}, name), h('dd', {}, value)];
    const options = describeOptions(release.config);
    replace(section,
      h('h3', { id: 'package-detail-heading', tabindex: -1 }, `Package ${release.name}`),
      h('dl', { class: 'facts' },
        ...fact('Version', versionSelect),
        ...fact('Description', release.description ?? ''),
        ...fact('Maintainer', release.maintainer ?? ''),
        ...fact('Tags', (release.tags ?? []).join(', ')),
        ...fact('Repository', `${repository.name} (${repository.uri})`),
        ...fact('App', release.diego !== undefined ? 'a DesiredLRP template' : release.marathon !== undefined ? 'a Marathon app, translated' : 'none'),
        ...(release.preInstallNotes === undefined ? [] : fact('Before installing', release.preInstallNotes))),
      options.length === 0 ? h('p', { class: 'count' }, 'It takes no options.') : h('div', { class: 'scroll' }, h('table', { id: 'package-options' },
        h('caption', { class: 'count' }, 'Options (its config schema)'),
        h('thead', {}, h('tr', {}, ...['Option', 'Type', 'Default', 'Description'].map((heading) => h('th', { scope: 'col' }, heading)))),
        h('tbody', {}, ...options.map((option) => h('tr', { 'data-option': option.path },
          h('td', {}, h('code', {}, option.path)), h('td', {}, option.type), h('td', {}, h('code', {}, option.defaultValue)), h('td', {}, option.description)))))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'open-install', onclick: () => this.openInstall() }, `Install ${release.name} ${release.version}…`),
        h('button', { type: 'button', class: 'secondary', onclick: () => {
          this.described = null;
          section.hidden = true;
          replace(section);
        } }, 'Close')),
      h('p', { id: 'package-installed-note', role: 'status' }));
    byId('package-detail-heading', HTMLHeadingElement).focus();
  }

  // ---- install ----

  private openInstall(): void {
    if (this.described === null) return;
    const release = this.described.package;
    const fields = optionFields(release.config);
    this.installing = { target: { packageName: release.name, packageVersion: release.version }, fields };
    byId('install-dialog-heading', HTMLHeadingElement).textContent = `Install ${release.name} ${release.version}`;
    replace(byId('install-fields', HTMLDivElement), ...fields.map((field) => this.optionInput(field)));
    this.installForm.form.reset();
    this.installForm.rewrite();
    this.installForm.open();
  }

  /** A labelled input for one option, showing the schema's default first (what the form's reset returns to). */
  private optionInput(field: OptionField): HTMLElement {
    const name = `option-${field.name}`;
    const help = field.description === '' ? null : h('span', { class: 'help' }, field.description);
    const label = `${field.name}${field.required ? ' (required)' : ''}`;
    if (field.type === 'boolean') {
      return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked: field.initial === true }), label, help);
    }
    if (field.choices !== null) {
      return h('label', {}, label, h('select', { name },
        ...field.choices.map((choice) => h('option', { value: String(choice), selected: String(choice) === String(field.initial) }, String(choice)))), help);
    }
    const numeric = field.type === 'integer' || field.type === 'number';
    return h('label', {}, label,
      h('input', { name, value: String(field.initial), autocomplete: 'off', spellcheck: 'false', ...(numeric ? { inputmode: 'decimal' } : {}) }), help);
  }

  private installBody(form: HTMLFormElement): Json {
    if (this.installing === null) return {};
    const values = new Map<string, string | boolean>();
    for (const field of this.installing.fields) {
      const element = form.elements.namedItem(`option-${field.name}`);
      if (element instanceof HTMLInputElement) values.set(field.name, element.type === 'checkbox' ? element.checked : element.value);
      else if (element instanceof HTMLSelectElement) values.set(field.name, element.value);
    }
    return installRequest(this.installing.target, textField(form, 'appId'), optionsFromFields(this.installing.fields, values));
  }

  private renderInstalledNote(answer: InstallAnswer): void {
    const note = document.getElementById('package-installed-note');
    if (note === null) return;
    replace(note, `${answer.packageName} ${answer.packageVersion} installed as the app `,
      h('button', { type: 'button', class: 'link', onclick: () => this.showApp(answer.appId) }, answer.appId),
      answer.postInstallNotes === undefined ? '.' : `. ${answer.postInstallNotes}`);
  }

  // ---- installed ----

  private renderInstalled(list: InstalledList): void {
    const body = byId('installed-table', HTMLTableElement).tBodies[0];
    if (body === undefined) return;
    replace(body, ...(list.packages.length === 0
      ? [h('tr', {}, h('td', { colspan: 5 }, 'Nothing installed.'))]
      : list.packages.map(({ appId, packageInformation: { packageDefinition: installed } }) => h('tr', { 'data-app': appId },
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => this.showApp(appId) }, appId)),
        h('td', {}, installed.name),
        h('td', {}, installed.version),
        h('td', {}, installed.repository),
        h('td', {}, h('button', { type: 'button', class: 'small danger', 'aria-label': `Uninstall ${appId}`, onclick: () => {
          if (!window.confirm(`Uninstall ${installed.name} (the app ${appId})? Its instances stop.`)) return;
          void act(async () => {
            await this.service.call<UninstallAnswer>('/package/uninstall', { packageName: installed.name, appId });
            this.installedReload.request();
          });
        } }, 'Uninstall'))))));
  }
}
