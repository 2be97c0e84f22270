// @mention suggestions in every text box where members write (posts, replies, messages):
// typing "@" and the start of a name lists matching members (people you talk with
// first, from /api/users/suggest); arrows move, Enter or Tab picks, Escape closes.
// Picking puts "@name " in place, the space ending the mention (see src/mentions/parse.ts).
(() => {
  'use strict';
  // --- Mentions in messages as links ------------------------------------------------------
  // Messages are drawn in the browser (live) and on the server alike; both leave their text
  // in [data-message-content]. Their text nodes are searched here and each mention wrapped
  // in a link built with DOM calls: no member's text is ever parsed as HTML. The same rule
  // as src/mentions/parse.ts and render.ts: the first few distinct names of a message only.
  const MENTION = /(?<![\p{L}\p{N}_@/-])@([\p{L}\p{N}_-]{2,24})(?![\p{L}\p{N}_-])/gu;
  const SKIPPED = 'a, code, pre';
  const perText = Number($('[data-mentions-per-text]').attr('data-mentions-per-text')) || 5;

  /** Safe to run again on the same message: text already in a link is left alone. */
  function linkMentionsIn(container) {
    const linked = [...container.querySelectorAll('a.mention')].map((a) => a.getAttribute('data-mention').normalize('NFKC').toLowerCase());
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) if (!walker.currentNode.parentElement.closest(SKIPPED)) nodes.push(walker.currentNode);
    for (const node of nodes) {
      const text = node.nodeValue;
      const parts = [];
      let at = 0;
      for (const match of text.matchAll(MENTION)) {
        const key = match[1].normalize('NFKC').toLowerCase();
        if (!linked.includes(key)) {
          if (linked.length >= perText) continue;
          linked.push(key);
        }
        parts.push(document.createTextNode(text.slice(at, match.index)));
        const a = document.createElement('a');
        a.className = 'mention';
        a.href = `/users/${encodeURIComponent(match[1])}`;
        a.setAttribute('data-mention', match[1]);
        a.textContent = `@${match[1]}`;
        parts.push(a);
        at = match.index + match[0].length;
      }
      if (parts.length === 0) continue;
      parts.push(document.createTextNode(text.slice(at)));
      node.replaceWith(...parts);
    }
  }

  const linkAll = (root) => {
    if (root.nodeType !== 1) return;
    if (root.matches('[data-message-content]')) linkMentionsIn(root);
    for (const el of root.querySelectorAll('[data-message-content]')) linkMentionsIn(el);
  };
  // A live message may get its text after it is attached, or new text when edited: look
  // again whenever a message's content changes. (Our own links change it too; a second
  // look finds nothing left to link, so this settles at once.)
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const content = target && target.closest('[data-message-content]');
      if (content) linkMentionsIn(content);
      for (const node of record.addedNodes) linkAll(node);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  linkAll(document.body);

  // --- Suggestions as you type --------------------------------------------------------------
  const FIELDS = 'textarea[name=body], textarea[name=content]';
  const TYPED = /(?:^|[^\p{L}\p{N}_@-])@([\p{L}\p{N}_-]{1,24})$/u;
  const DELAY_MS = 120;

  let $list = null;
  let field = null;
  let options = [];
  let active = 0;
  let timer = 0;
  let asked = 0;

  function close() {
    if ($list) $list.remove();
    $list = null;
    options = [];
    field = null;
  }

  function typedPrefix(el) {
    const before = el.value.slice(0, el.selectionStart);
    const match = TYPED.exec(before);
    return match ? match[1] : null;
  }

  function highlight() {
    if (!$list) return;
    $list.children().each((i, li) => {
      const on = i === active;
      $(li).toggleClass('active', on).attr('aria-selected', on ? 'true' : 'false');
    });
  }

  function pick(username) {
    const el = field;
    if (!el) return;
    const caret = el.selectionStart;
    const before = el.value.slice(0, caret);
    const prefix = typedPrefix(el);
    if (prefix === null) return close();
    const start = before.length - prefix.length;
    const inserted = `${username} `;
    el.value = el.value.slice(0, start) + inserted + el.value.slice(caret);
    const at = start + inserted.length;
    el.setSelectionRange(at, at);
    close();
    el.focus();
    // Other scripts (the chat's typing, the outbox) hear the change as if typed.
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function show(el, users) {
    close();
    if (users.length === 0) return;
    field = el;
    options = users.map((u) => u.username);
    active = 0;
    $list = $('<ul class="list-group mention-suggestions shadow-sm" role="listbox" data-mention-suggestions></ul>');
    for (const user of users) {
      const $item = $('<li class="list-group-item list-group-item-action" role="option"></li>').attr('data-mention-option', user.username);
      $('<img class="avatar avatar-sm" alt="" width="20" height="20">').attr('src', user.avatar).appendTo($item);
      $('<span></span>').text(user.username).appendTo($item);
      $item.on('mousedown', (e) => {
        e.preventDefault(); // keep the focus in the text box
        pick(user.username);
      });
      $list.append($item);
    }
    $(el).after($list);
    highlight();
  }

  // Answers kept for this page: a name typed further is filtered from a shorter name's
  // answer when that answer was complete (fewer than the server's limit), sparing the
  // suggestion rate limit one request per keystroke.
  const SERVER_LIMIT = 8;
  const answers = new Map();
  const fold = (name) => name.normalize('NFKC').toLowerCase();

  function known(prefix) {
    const key = fold(prefix);
    for (let n = key.length; n >= 1; n--) {
      const users = answers.get(key.slice(0, n));
      if (users && (n === key.length || users.length < SERVER_LIMIT)) return users.filter((u) => fold(u.username).startsWith(key));
    }
    return null;
  }

  function suggest(el) {
    const prefix = typedPrefix(el);
    clearTimeout(timer);
    if (prefix === null) return close();
    const cached = known(prefix);
    if (cached) return show(el, cached);
    timer = setTimeout(() => {
      const ticket = ++asked;
      $.ajax({ url: '/api/users/suggest', data: { q: prefix }, dataType: 'json' }).done((answer) => {
        if (!answer || !answer.ok) return;
        answers.set(fold(prefix), answer.users || []);
        // Only the answer to the latest question, and only while that name is still being typed.
        if (ticket !== asked || typedPrefix(el) !== prefix) return;
        show(el, answer.users || []);
      });
    }, DELAY_MS);
  }

  $(document).on('input', FIELDS, (e) => suggest(e.target));
  $(document).on('blur', FIELDS, () => setTimeout(close, 100));

  // Capture phase: while the list is open, Enter picks a name rather than sending the chat message.
  document.addEventListener(
    'keydown',
    (e) => {
      if (!$list || e.target !== field) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
        highlight();
      } else if (e.key === 'Enter' || e.key === 'Tab') {
        pick(options[active]);
      } else if (e.key === 'Escape') {
        close();
      } else {
        return;
      }
      e.preventDefault();
      e.stopImmediatePropagation();
    },
    true,
  );
})();
