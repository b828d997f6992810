/**
 * What the page's views share: reads that run one at a time, failures shown as the service said them, and dialogs
 * whose fields write the JSON they post.
 */
import { ApiFailure, describeFailure } from './api.js';
import { byId, h, replace } from './dom.js';

/** A read that runs once at a time: asked again while it runs, it runs once more when it is done. */
export class Reload {
  private running = false;
  private again = false;

  constructor(private readonly load: () => Promise<void>) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.load();
      } catch (err) {
        showFailure(err);
      }
    } while (this.again);
    this.running = false;
  }
}

export function showNotice(message: string): void {
  const notice = byId('notice', HTMLDivElement);
  replace(notice, h('span', {}, message), h('button', { type: 'button', class: 'small', onclick: () => replace(notice) }, 'Dismiss'));
}

/**
 * A failure as the receptor (or the package service) said it; a 401 is answered by the sign-in dialog instead (api.ts calls onUnauthorized's
 * handler), over the page as it is, so that nothing typed is lost and what failed can be tried again.
 */
export function showFailure(err: unknown): void {
  if (err instanceof ApiFailure && err.status === 401) return;
  showNotice(describeFailure(err));
}

/** Runs a user's action; its failure is shown as the service said it. */
export async function act(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    showFailure(err);
  }
}

export function field(form: HTMLFormElement, name: string): HTMLInputElement | HTMLTextAreaElement {
  const element = form.elements.namedItem(name);
  if (!(element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement)) throw new Error(`the form has no field ${name}`);
  return element;
}

/**
 * A dialog whose fields write the JSON it posts into an editable textarea; submitting posts the textarea. A
 * service's error is shown in the dialog, which stays open with everything typed.
 */
export function jsonForm(dialogId: string, formId: string, jsonId: string, errorId: string, build: (form: HTMLFormElement) => Record<string, unknown>, post: (body: string) => Promise<unknown>): { open(): void; form: HTMLFormElement; rewrite(): void } {
  const dialog = byId(dialogId, HTMLDialogElement);
  const form = byId(formId, HTMLFormElement);
  const json = byId(jsonId, HTMLTextAreaElement);
  const error = byId(errorId, HTMLParagraphElement);
  const rewrite = (): void => {
    json.value = JSON.stringify(build(form), null, 2);
  };
  form.addEventListener('input', (event) => {
    if (event.target !== json) rewrite();
  });
  for (const button of form.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    const submit = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit !== null) submit.disabled = true;
    post(json.value).then(
      () => {
        dialog.close();
        form.reset();
        rewrite();
      },
      (err: unknown) => {
        error.textContent = describeFailure(err);
      },
    ).finally(() => {
      if (submit !== null) submit.disabled = false;
    });
  });
  rewrite();
  return {
    form,
    rewrite,
    open: () => {
      error.textContent = '';
      dialog.showModal();
      form.querySelector<HTMLInputElement>('input')?.focus();
    },
  };
}
