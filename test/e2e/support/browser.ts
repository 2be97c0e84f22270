// Chromium for the browser tests: one browser per file, one isolated context per person,
// every page watched for errors, and people who sign up and sign in through the real forms.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Locator, type Page } from 'playwright-core';
import type { App } from './app.ts';
import { watchRealtime } from './realtime.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOTS_DIR = path.join(projectRoot, 'test-results', 'screenshots');
export const COMMITTED_SCREENSHOTS_DIR = path.join(projectRoot, 'docs', 'screenshots');
export const FAILURES_DIR = path.join(projectRoot, 'test-results', 'failures');

/** Debian's Chromium in a container: no sandbox, no GPU, and nothing that calls home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DEFAULT_PASSWORD = 'a long enough passphrase 42';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// --- contexts and what goes wrong in them ----------------------------------------------

interface Watch {
  label: string;
  problems: string[];
  allowed: RegExp[];
}

/** Contexts opened since the last closeContexts(): one test's people. */
const watches = new Map<BrowserContext, Watch>();

export interface ContextOptions {
  /** Sent as Accept-Language, which is how the app picks its language. */
  locale?: string;
  /** Names the context in failure messages, e.g. the username. */
  label?: string;
}

/**
 * A fresh browser profile (own cookies, own storage) whose pages are watched: uncaught
 * errors and console errors are recorded and fail the test (see fixtures.ts). CSP
 * violations and failed loads of scripts, styles or images are console errors in Chromium.
 */
export async function newContext(browser: Browser, app: App, options: ContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: app.url,
    locale: options.locale ?? 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1280, height: 800 },
    // No transitions: a dialog is either open or not, and screenshots do not catch it mid-fade.
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(15_000);
  const watch: Watch = { label: options.label ?? `browser ${watches.size + 1}`, problems: [], allowed: [] };
  watches.set(context, watch);
  context.on('page', (page) => watchRealtime(page));
  context.on('console', (message) => {
    if (message.type() === 'error') record(watch, `console error: ${message.text()}${where(message)}`);
  });
  context.on('weberror', (webError) => {
    const error = webError.error();
    record(watch, `uncaught error in the page: ${error.stack ?? error.message}`);
  });
  return context;
}

function record(watch: Watch, problem: string): void {
  if (!watch.allowed.some((pattern) => pattern.test(problem))) watch.problems.push(problem);
}

function where(message: ConsoleMessage): string {
  const { url, lineNumber } = message.location();
  return url ? ` (at ${url}${lineNumber ? `:${lineNumber}` : ''})` : '';
}

type Holder = BrowserContext | Page | { context: BrowserContext };

function contextOf(holder: Holder): BrowserContext {
  if ('newPage' in holder) return holder;
  return typeof holder.context === 'function' ? holder.context() : holder.context;
}

/**
 * Declares errors this test causes on purpose, e.g. /ERR_CONNECTION_REFUSED/ while the app
 * restarts. Call it before they happen; everything else still fails the test.
 */
export function allowProblems(holder: Holder, pattern: RegExp): void {
  const watch = watches.get(contextOf(holder));
  if (!watch) throw new Error('allowProblems: this context was not opened through newContext()');
  watch.allowed.push(pattern);
}

/** Takes the problems recorded so far (labelled by context), leaving none behind. */
export function takeProblems(): string[] {
  const found: string[] = [];
  for (const watch of watches.values()) {
    found.push(...watch.problems.map((problem) => `[${watch.label}] ${problem}`));
    watch.problems = [];
  }
  return found;
}

/** Closes every context opened since the last call; returns the problems they recorded. */
export async function closeContexts(failureName?: string): Promise<string[]> {
  const open = [...watches.entries()];
  if (failureName) await screenshotAll(open, failureName);
  await Promise.all(open.map(([context]) => context.close().catch(() => undefined)));
  const problems = takeProblems();
  watches.clear();
  return problems;
}

/** After a failure: what every open page looked like, to read beside the error. */
async function screenshotAll(open: [BrowserContext, Watch][], failureName: string): Promise<void> {
  await fs.mkdir(FAILURES_DIR, { recursive: true });
  const base = failureName.replace(/[^\w-]+/g, '-').slice(0, 80);
  for (const [context, watch] of open) {
    for (const [index, page] of context.pages().entries()) {
      const file = path.join(FAILURES_DIR, `${base}--${watch.label.replace(/\W+/g, '-')}-${index + 1}.png`);
      await page.screenshot({ path: file, timeout: 5000 }).catch(() => undefined);
    }
  }
}

// --- screenshots ---------------------------------------------------------------------------

/**
 * Saves what the page shows as test-results/screenshots/<name>.png on every run; with
 * UPDATE_SCREENSHOTS=1 also as docs/screenshots/<name>.png, the set the README shows.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name "${name}": use lower-case words and dashes`);
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  await fs.mkdir(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await fs.mkdir(COMMITTED_SCREENSHOTS_DIR, { recursive: true });
    await fs.copyFile(file, path.join(COMMITTED_SCREENSHOTS_DIR, `${name}.png`));
  }
  return file;
}

// --- keyboard ---------------------------------------------------------------------------------

/** Presses Tab until the focused element matches `selector`, as a keyboard user would. */
export async function tabTo(page: Page, selector: string, maxPresses = 60): Promise<void> {
  for (let presses = 0; presses <= maxPresses; presses++) {
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${maxPresses} presses of Tab never reached ${selector}`);
}

// --- forms -----------------------------------------------------------------------------------

export interface FormOutcome {
  status: number;
  /** Where a 3xx sent the browser, as a path with query; undefined when the form was answered in place. */
  redirectedTo: string | undefined;
  /** The page's alert texts after the answer, e.g. a validation message. */
  alerts: string[];
}

/**
 * Submits a form the way a person does (clicking its submit button) and waits for the
 * answer to the POST, then for the page it leads to.
 */
export async function submitForm(form: Locator, button?: Locator): Promise<FormOutcome> {
  const page = form.page();
  const submit = button ?? form.locator('button:not([type]), [type=submit]').first();
  const [response] = await Promise.all([
    page.waitForResponse((res) => res.request().isNavigationRequest() && res.request().method() === 'POST' && res.frame() === page.mainFrame()),
    submit.click(),
  ]);
  const status = response.status();
  const location = status >= 300 && status < 400 ? await response.headerValue('location') : null;
  if (location) {
    const target = new URL(location, response.url());
    await page.waitForURL(target.href);
  } else {
    await page.waitForLoadState();
  }
  const finalUrl = new URL(page.url());
  return {
    status,
    redirectedTo: location ? finalUrl.pathname + finalUrl.search : undefined,
    alerts: await alertTexts(page),
  };
}

export async function alertTexts(page: Page): Promise<string[]> {
  const texts = await page.locator('[role=alert]:visible, .alert:visible, .invalid-feedback:visible').allInnerTexts();
  return texts.map((text) => text.trim()).filter(Boolean);
}

/** Goes to a page and fails at once, naming it, when the app answers with an error status. */
export async function visit(page: Page, route: string): Promise<void> {
  const response = await page.goto(route);
  const status = response?.status() ?? 0;
  if (status >= 400) throw new Error(`GET ${route} answered ${status}: ${(await alertTexts(page)).join(' | ') || (await page.title())}`);
}

/** The form on the page that has a field of this name (a page may also hold the sign-out form). */
export function formWithField(page: Page, name: string): Locator {
  return page.locator('form', { has: page.locator(`[name="${name}"]`) }).first();
}

// --- people ------------------------------------------------------------------------------------

export interface Credentials {
  username: string;
  password?: string;
}

/** A signed-in person: their browser profile, the page they are on, and who they are. */
export interface Member {
  username: string;
  password: string;
  /** The user id the app gave them (body[data-current-user-id]). */
  id: string;
  context: BrowserContext;
  page: Page;
}

export interface NewUserOptions extends Credentials {
  locale?: string;
}

/** Opens a fresh browser profile and registers through /register; the person is signed in. */
export async function newUser(browser: Browser, app: App, options: NewUserOptions): Promise<Member> {
  return arrive(browser, app, options, register);
}

/** Opens a fresh browser profile and signs in through /login, e.g. "the recipient comes back later". */
export async function signInAs(browser: Browser, app: App, options: NewUserOptions): Promise<Member> {
  return arrive(browser, app, options, signIn);
}

async function arrive(
  browser: Browser,
  app: App,
  options: NewUserOptions,
  through: (page: Page, credentials: Required<Credentials>) => Promise<string>,
): Promise<Member> {
  const password = options.password ?? DEFAULT_PASSWORD;
  const context = await newContext(browser, app, { locale: options.locale, label: options.username });
  const page = await context.newPage();
  const id = await through(page, { username: options.username, password });
  return { username: options.username, password, id, context, page };
}

export async function register(page: Page, credentials: Required<Credentials>): Promise<string> {
  return fillCredentials(page, '/register', credentials);
}

export async function signIn(page: Page, credentials: Required<Credentials>): Promise<string> {
  return fillCredentials(page, '/login', credentials);
}

export async function signOut(page: Page): Promise<void> {
  const outcome = await submitForm(page.locator('form[action="/logout"]'));
  if (!outcome.redirectedTo) throw new Error(`signing out answered ${outcome.status}, not a redirect`);
  await page.locator('body:not([data-current-user-id])').waitFor({ state: 'attached' });
}

/** The signed-in user's id, or undefined on a signed-out page. */
export async function currentUserId(page: Page): Promise<string | undefined> {
  return (await page.locator('body').getAttribute('data-current-user-id')) ?? undefined;
}

async function fillCredentials(page: Page, route: '/register' | '/login', credentials: Required<Credentials>): Promise<string> {
  await visit(page, route);
  const form = formWithField(page, 'password');
  await form.locator('[name=username]').fill(credentials.username);
  await form.locator('[name=password]').fill(credentials.password);
  const outcome = await submitForm(form);
  if (outcome.status !== 303) {
    throw new Error(`POST ${route} as "${credentials.username}" answered ${outcome.status}, not 303: ${outcome.alerts.join(' | ') || '(no message shown)'}`);
  }
  const id = await currentUserId(page);
  if (!id) throw new Error(`after POST ${route} as "${credentials.username}" the page at ${outcome.redirectedTo} is not signed in`);
  return id;
}
