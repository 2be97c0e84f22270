// Forum actions through the real pages (CONTRACT.md, Pages).
import type { Page } from 'playwright-core';
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
