// Forum actions through the real pages (CONTRACT.md, Pages).
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { App } from './app.ts';
import { formWithField, submitForm, visit } from './browser.ts';

/** Writes a post through /posts/new; returns its path, /posts/<id>. */
export async function createPost(page: Page, post: { title: string; body: string }): Promise<string> {
  await visit(page, '/posts/new');
  const form = formWithField(page, 'title');
  await form.locator('[name=title]').fill(post.title);
  await form.locator('[name=body]').fill(post.body);
  const outcome = await submitForm(form);
  if (outcome.status !== 303 || !/^\/posts\/[^/]+$/.test(outcome.redirectedTo ?? '')) {
    throw new Error(`POST /posts answered ${outcome.status} to ${outcome.redirectedTo ?? '(no redirect)'}: ${outcome.alerts.join(' | ')}`);
  }
  return outcome.redirectedTo!;
}

/**
 * Gives a member a role the way the README says the first admin is made: stop the app,
 * `npm run admin -- promote <username> <role>` on its data, start it again (same port,
 * same sessions: everyone stays signed in).
 */
export async function promote(app: App, username: string, role: 'admin' | 'moderator' = 'admin'): Promise<void> {
  await app.stop();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => /^(PATH|HOME|USER|LANG|TMPDIR|XDG_CACHE_HOME|FERRETDB_BIN|DB_ENGINE|MONGOMS_\w+)$/.test(key)));
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'admin', '--', 'promote', username, role], {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      env: { ...inherited, DATA_DIR: app.dataDir, LOG_LEVEL: 'warn' },
    });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('exit', (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (code !== 0) throw new Error(`npm run admin -- promote ${username} ${role} failed (${code}):\n${output}`);
  await app.start();
}

/** A form whose action is exactly this path. */
export function formTo(page: Page, action: string): Locator {
  return page.locator(`form[action="${action}"]`).first();
}
