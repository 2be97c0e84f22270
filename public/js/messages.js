// The messages page: the conversation list kept live (new messages, unread counts,
// catch-up after a reconnect) and the compose form sent over the socket, with username
// suggestions. Without JavaScript the form posts to /messages through the same service.
(() => {
  'use strict';
  const Parley = window.Parley;
  const $list = $('[data-conversation-list]');
  if (!Parley || !Parley.socket || !$list.length) return;
  const socket = Parley.socket;
  const $doc = $(document);
  const SEND_TIMEOUT_MS = 10000;
  const PREVIEW_LENGTH = 120;
  const rowTemplate = document.querySelector('template[data-conversation-template]');

  function preview(content) {
    const chars = Array.from(String(content).replace(/\s+/g, ' ').trim());
    return chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH - 1).join('')}…` : chars.join('');
  }

  function findRow(userId) {
    return $list.children('[data-conversation]').filter((_, el) => el.getAttribute('data-user-id') === userId).first();
  }

  function setUnread($row, count, version) {
    if (typeof version === 'number') {
      if (version < (Number($row.attr('data-version')) || Parley.renderedVersion || 0)) return;
      $row.attr('data-version', String(version));
    }
    const n = Math.max(0, Number(count) || 0);
    const $badge = $row.find('[data-conversation-unread]');
    if (n > 0) {
      $badge.attr({ 'data-unread': String(n), 'aria-label': Parley.str('unread-label', { count: n }) }).text(String(n)).prop('hidden', false);
      $row.attr('data-has-unread', '');
    } else {
      $badge.removeAttr('data-unread aria-label').text('').prop('hidden', true);
      $row.removeAttr('data-has-unread');
    }
  }

  /** Finds or makes the row for `user`; the latest conversation goes to the top. */
  function showLast(user, last) {
    let $row = findRow(user._id);
    if (!$row.length) {
      $row = $(rowTemplate.content.firstElementChild.cloneNode(true));
      $row.attr({ 'data-user-id': user._id, 'data-username': user.username });
      $row.find('[data-conversation-link]').attr('href', `/messages/${encodeURIComponent(user.username)}`);
      $row.find('[data-conversation-avatar]').attr('src', user.avatar);
      $row.find('[data-conversation-username]').text(user.username);
    }
    if (last.seq < (Number($row.attr('data-seq')) || 0)) return $row;
    $row.attr('data-seq', String(last.seq));
    $row.find('[data-conversation-preview]').text((last.from === Parley.me ? Parley.str('you') : '') + last.preview);
    $row.find('[data-conversation-time]').attr('datetime', last.at).text(Parley.formatDate(last.at));
    if ($list.children().first()[0] !== $row[0]) $list.prepend($row);
    $('[data-inbox-empty]').prop('hidden', true);
    return $row;
  }

  function showMessage(friend, message) {
    showLast(friend, { seq: message.seq, from: message.from, at: message.createdAt, preview: preview(message.content) });
  }

  $doc.on('parley:sendback', (_e, data) => showMessage(data.friend, data.message));
  $doc.on('parley:sent', (_e, res) => showMessage(res.friend, res.message));
  $doc.on('parley:unread', (_e, data) => {
    const $row = findRow(data.user._id);
    if ($row.length) setUnread($row, data.count, data.v);
  });
  // After a reconnect: the whole inbox, as it is now.
  $doc.on('parley:inbox', (_e, inbox) => {
    inbox.conversations
      .slice()
      .reverse()
      .forEach((c) => {
        const $row = showLast(c.user, { seq: c.last.seq, from: c.last.from, at: c.last.at, preview: c.last.preview });
        setUnread($row, c.unread, inbox.v);
      });
  });

  // --- Compose ---------------------------------------------------------------------
  const $compose = $('[data-compose-form]');
  const $to = $compose.find('input[name=to]');
  const $content = $compose.find('textarea[name=content]');
  const $send = $compose.find('[data-compose-send]');
  const $error = $('[data-compose-error]');
  const $status = $('[data-compose-status]');
  let sending = false;
  let pending = null;

  $compose.on('submit', (event) => {
    event.preventDefault();
    if (sending) return;
    const to = String($to.val() || '').trim();
    const content = String($content.val() || '');
    const same = pending && pending.to === to && pending.content === content;
    pending = { to, content, clientId: same ? pending.clientId : Parley.clientId() };
    sending = true;
    $send.prop('disabled', true).text(Parley.str('sending'));
    $compose.attr('aria-busy', 'true');
    socket.timeout(SEND_TIMEOUT_MS).emit('privatemsg', { to_username: to, content, client_id: pending.clientId }, (err, res) => {
      sending = false;
      $send.prop('disabled', false).text(Parley.str('send'));
      $compose.attr('aria-busy', 'false');
      if (err || !res || !res.ok) {
        $status.prop('hidden', true).empty();
        $error.text((res && res.error) || Parley.str('timeout')).prop('hidden', false);
        const $field = res && res.field === 'to' ? $to : $content;
        if (res && res.field) $field.attr('aria-invalid', 'true');
        $field.trigger('focus');
        return;
      }
      pending = null;
      $to.add($content).removeAttr('aria-invalid');
      $error.prop('hidden', true).text('');
      $content.val('');
      const username = res.friend.username;
      $status
        .empty()
        .append(document.createTextNode(`${Parley.str('sent', { username })} `))
        .append($('<a></a>').attr('href', `/messages/${encodeURIComponent(username)}`).text(Parley.str('open')))
        .prop('hidden', false);
      if (res.online === false) $status.append(document.createTextNode(` ${Parley.str('offline', { username })}`));
      showMessage(res.friend, res.message);
    });
  });

  // Suggestions as the member types: people they talk with first, then other members.
  const $suggestions = $('[data-compose-suggestions]');
  let suggestTimer = null;
  let lastQuery = '';
  $content.on('input', () => $content.removeAttr('aria-invalid'));
  $to.on('input', () => {
    $to.removeAttr('aria-invalid');
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(() => {
      const q = String($to.val() || '').trim();
      if (q === lastQuery) return;
      lastQuery = q;
      if (!q) return $suggestions.empty();
      $.ajax({ url: '/api/users/suggest', data: { q }, dataType: 'json' }).done((res) => {
        if (!res || !res.ok || q !== lastQuery) return;
        $suggestions.empty().append(res.users.map((u) => $('<option></option>').attr('value', u.username)));
      });
    }, 150);
  });
})();
