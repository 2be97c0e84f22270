// The messages page: the conversation list kept live (new messages, unread counts,
// catch-up after a reconnect) and the compose form sent through the send queue, with
// username suggestions. Without JavaScript the form posts to /messages through the same service.
(() => {
  'use strict';
  const Parley = window.Parley;
  const $list = $('[data-conversation-list]');
  if (!Parley || !Parley.socket || !$list.length) return;
  const $doc = $(document);
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
    $row.find('[data-conversation-preview]').text((last.from === Parley.me ? Parley.str('you') : '') + (last.deleted ? Parley.str('msg-deleted') : last.preview));
    $row.find('[data-conversation-time]').attr('datetime', last.at).text(Parley.formatDate(last.at));
    if ($list.children().first()[0] !== $row[0]) $list.prepend($row);
    $('[data-inbox-empty]').prop('hidden', true);
    return $row;
  }

  function showMessage(friend, message) {
    showLast(friend, { seq: message.seq, from: message.from, at: message.createdAt, preview: preview(message.content) });
  }

  // --- Group conversations: rows keyed by the group's id (groups.ts) ---------------
  const groupTemplate = document.querySelector('template[data-group-template]');
  const findGroupRow = (conv) => $list.children('[data-group-row]').filter((_, el) => el.getAttribute('data-group-id') === conv).first();
  function showGroup(group, last) {
    let $row = findGroupRow(group._id);
    if (!$row.length && groupTemplate) {
      $row = $(groupTemplate.content.firstElementChild.cloneNode(true)).attr('data-group-id', group._id);
      $row.find('[data-conversation-link]').attr('href', `/messages/c/${encodeURIComponent(group._id)}`);
    }
    if (!$row.length) return $row;
    $row.find('[data-group-title]').text(group.title);
    if (!last || last.seq < (Number($row.attr('data-seq')) || 0)) return $row;
    const sender = group.members.find((m) => m._id === last.from);
    $row.attr('data-seq', String(last.seq));
    $row.find('[data-conversation-preview]').text((last.from === Parley.me ? Parley.str('you') : sender ? `${sender.username}: ` : '') + last.preview);
    $row.find('[data-conversation-time]').attr('datetime', last.at).text(Parley.formatDate(last.at));
    if ($list.children().first()[0] !== $row[0]) $list.prepend($row);
    $('[data-inbox-empty]').prop('hidden', true);
    return $row;
  }
  $doc.on('parley:groupmsg', (_e, data) =>
    showGroup(data.group, { seq: data.message.seq, from: data.message.from, at: data.message.createdAt, preview: preview(data.message.content) }),
  );
  $doc.on('parley:sendback', (_e, data) => {
    // A first message from someone not listed may be a request: the server's inbox says where it goes.
    if (data.message.from !== Parley.me && !findRow(data.friend._id).length) {
      Parley.refreshInbox()
        .done((inbox) => {
          const request = inbox && Array.isArray(inbox.requests) && inbox.requests.some((c) => c.user._id === data.friend._id);
          if (!request) showMessage(data.friend, data.message);
        })
        .fail(() => showMessage(data.friend, data.message));
    } else showMessage(data.friend, data.message);
  });

  /** The requests box, as the server renders it, when the requests changed. */
  function showRequests(requests) {
    const shown = $('[data-request]').map((_, el) => el.getAttribute('data-username')).get().sort().join('\n');
    const now = requests.map((c) => c.user.username).sort().join('\n');
    if (shown === now) return;
    $.ajax({ url: '/messages', dataType: 'html', cache: false }).done((html) => {
      const $fresh = $($.parseHTML(html)).find('[data-requests]');
      if ($fresh.length) $('[data-requests]').replaceWith($fresh);
    });
  }
  // An edit or deletion of a conversation's newest message changes its preview.
  $doc.on('parley:msgupdate', (_e, data) => {
    const m = data.message;
    const $row = findRow(m.from === Parley.me ? m.to : m.from);
    if (!$row.length || Number($row.attr('data-seq')) !== m.seq) return;
    const text = m.deleted ? Parley.str('msg-deleted') : preview(m.content);
    $row.find('[data-conversation-preview]').text((m.from === Parley.me ? Parley.str('you') : '') + text);
  });
  $doc.on('parley:sent', (_e, res) => showMessage(res.friend, res.message));
  $doc.on('parley:unread', (_e, data) => {
    const $row = data.conversation ? findGroupRow(data.conversation) : findRow(data.user._id);
    if ($row.length) setUnread($row, data.count, data.v);
  });
  // After a reconnect: the whole inbox, as it is now.
  $doc.on('parley:inbox', (_e, inbox) => {
    if (Array.isArray(inbox.requests)) showRequests(inbox.requests);
    inbox.conversations
      .slice()
      .reverse()
      .forEach((c) => {
        const $row = showLast(c.user, { seq: c.last.seq, from: c.last.from, at: c.last.at, preview: c.last.preview, deleted: c.last.deleted });
        setUnread($row, c.unread, inbox.v);
      });
    (inbox.groups || [])
      .slice()
      .reverse()
      .forEach((g) => setUnread(showGroup(g.group, g.last), g.unread, inbox.v));
  });

  // --- Compose ---------------------------------------------------------------------
  // The message goes through the send queue like any other: kept until the server has it.
  const $compose = $('[data-compose-form]');
  const $to = $compose.find('input[name=to]');
  const $content = $compose.find('textarea[name=content]');
  const $send = $compose.find('[data-compose-send]');
  const $error = $('[data-compose-error]');
  const $status = $('[data-compose-status]');
  /** The client id of the form's message while it is queued. */
  let composing = null;

  function setComposing(clientId) {
    composing = clientId;
    $send.prop('disabled', Boolean(clientId)).text(Parley.str(clientId ? 'sending' : 'send'));
    $compose.attr('aria-busy', clientId ? 'true' : 'false');
  }

  function showError(text, field) {
    $status.prop('hidden', true).empty();
    $error.text(text).prop('hidden', false);
    const $field = field === 'to' ? $to : $content;
    if (field) $field.attr('aria-invalid', 'true');
    $field.trigger('focus');
  }

  $compose.on('submit', (event) => {
    event.preventDefault();
    if (composing) return;
    const to = String($to.val() || '').trim();
    const content = String($content.val() || '');
    if (!content.trim()) return showError(Parley.str('empty'), 'content');
    // Several names start a group: the form goes to the server, which opens the new group's page.
    if (to.split(/[\s,，、]+/).filter(Boolean).length > 1) {
      setComposing('group');
      return $compose[0].submit();
    }
    $error.prop('hidden', true).text('');
    setComposing(Parley.outbox.add({ id: null, username: to }, content, { compose: true }).clientId);
  });

  $doc.on('parley:outbox', (_e, entry) => {
    if (!entry.compose) return;
    if (entry.state === 'failed') {
      if (entry.clientId === composing) setComposing(null);
      // The form still holds the text: the refused copy need not stay queued.
      showError(entry.error, entry.field);
      Parley.outbox.discard(entry.clientId);
    } else if (entry.clientId === composing) {
      const waiting = entry.note ? `${entry.note} ${Parley.str('retrying')}` : Parley.outbox.isOffline() ? Parley.str('queued') : '';
      $status.text(waiting).prop('hidden', !waiting);
    }
  });

  $doc.on('parley:sent', (_e, res, entry) => {
    if (!entry || !entry.compose) return;
    if (entry.clientId === composing) setComposing(null);
    $to.add($content).removeAttr('aria-invalid');
    $error.prop('hidden', true).text('');
    if ($content.val() === entry.content) $content.val('');
    const username = res.friend.username;
    $status
      .empty()
      .append(document.createTextNode(`${Parley.str('sent', { username })} `))
      .append($('<a></a>').attr('href', `/messages/${encodeURIComponent(username)}`).text(Parley.str('open')))
      .prop('hidden', false);
    if (res.online === false) $status.append(document.createTextNode(` ${Parley.str('offline', { username })}`));
  });

  // Live online dots: the server is told whom this list shows (again after a reconnect or
  // when a new conversation appears) and says when any of them comes or goes.
  let watched = '';
  function watchPresence() {
    const ids = $list.children('[data-conversation][data-user-id]').map((_, el) => el.getAttribute('data-user-id')).get();
    const key = [...ids].sort().join(',');
    if (!Parley.socket.connected || key === watched) return;
    watched = key;
    Parley.socket.timeout(10000).emit('watchpresence', ids, (err, res) => {
      if (err || !res || !res.ok) {
        watched = '';
        return;
      }
      const online = new Set(res.online);
      $list.children('[data-conversation][data-user-id]').each((_, el) => Parley.showPresence($(el), online.has(el.getAttribute('data-user-id'))));
    });
  }
  $doc.on('parley:connection', (_e, connected) => {
    if (!connected) watched = '';
    else watchPresence();
  });
  $doc.on('parley:presence', (_e, data) => {
    const $row = findRow(data.user);
    if ($row.length) Parley.showPresence($row, data.online);
  });
  // A conversation that starts while the page is open is watched too.
  new MutationObserver(() => watchPresence()).observe($list[0], { childList: true });
  watchPresence();

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
