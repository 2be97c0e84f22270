// @mention suggestions in every text box where members write (posts, replies, messages):
// typing "@" and the start of a name lists matching members (people you talk with
// first, from /api/users/suggest); arrows move, Enter or Tab picks, Escape closes.
// Picking puts "@name " in place, the space ending the mention (see src/mentions/parse.ts).
(() => {
  'use strict';
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

  function suggest(el) {
    const prefix = typedPrefix(el);
    clearTimeout(timer);
    if (prefix === null) return close();
    timer = setTimeout(() => {
      const ticket = ++asked;
      $.ajax({ url: '/api/users/suggest', data: { q: prefix }, dataType: 'json' }).done((answer) => {
        // Only the answer to the latest question, and only while that name is still being typed.
        if (ticket !== asked || !answer || !answer.ok || typedPrefix(el) !== prefix) return;
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
