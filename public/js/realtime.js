// The page's one Socket.IO connection (signed-in pages only), the unread badge and the
// page title. Other scripts listen on `document` for:
//   parley:sendback (data)  a message to or from this member (another tab's, or received)
//   parley:unread (data)    a conversation's unread count changed
//   parley:read (data)      the other person has read up to a seq
//   parley:msgupdate (data) a message of a conversation of this member was edited or deleted
//   parley:reconnect        the connection came back: fetch what arrived meanwhile
//   parley:inbox (inbox)    the whole inbox, fetched after a reconnect
//   parley:groupmsg (data)  a group conversation's message (sendback with `group`)
//   parley:groupread (data) a member of a group has read up to a seq (read with `conversation`)
(() => {
  'use strict';
  const me = document.body.getAttribute('data-current-user-id');
  if (!me || typeof io !== 'function') return;

  const $doc = $(document);
  // WebSocket first, long-polling only where it cannot connect. Starting on polling and
  // upgrading leaves a moment with no request open; a tab closed in that moment is seen by
  // nobody, and its member counts as online until the heartbeat gives up (up to 20 s).
  const socket = io({ transports: ['websocket', 'polling'], tryAllTransports: true });
  const Parley = (window.Parley = window.Parley || {});
  Parley.socket = socket;
  Parley.me = me;
  Parley.myUsername = document.body.getAttribute('data-current-username');

  const stringsEl = document.querySelector('[data-messaging-strings]');
  /** A translated string from the page, with {name} placeholders filled in. */
  Parley.str = (name, vars) => {
    const template = (stringsEl && stringsEl.getAttribute(`data-${name}`)) || '';
    return template.replace(/\{(\w+)\}/g, (whole, key) => (vars && key in vars ? String(vars[key]) : whole));
  };

  /** Turns an online dot (and its label for screen readers) inside `$el` on or off. */
  Parley.showPresence = ($el, online) => {
    $el.find('[data-online-dot]').attr('data-online', online ? '' : null);
    $el.find('[data-online-label]').text(Parley.str(online ? 'online' : 'offline-label'));
  };

  const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: 'medium', timeStyle: 'short' });
  Parley.formatDate = (iso) => dateFormat.format(new Date(iso));

  /** A client id for a send: the same id again makes a retry harmless. */
  Parley.clientId = () =>
    window.crypto && typeof window.crypto.randomUUID === 'function'
      ? window.crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;

  // --- Unread badge and title ---------------------------------------------------
  const $badge = $('[data-unread-total]');
  let inboxVersion = Number($badge.attr('data-inbox-version')) || 0;
  /** The inbox version the page was rendered at. */
  Parley.renderedVersion = inboxVersion;

  function showTotal(total) {
    const n = Math.max(0, Number(total) || 0);
    if (n > 0) $badge.attr('data-unread', String(n)).text(String(n)).prop('hidden', false);
    else $badge.removeAttr('data-unread').text('').prop('hidden', true);
    document.title = (n > 0 ? `(${n}) ` : '') + document.title.replace(/^\(\d+\) /, '');
  }

  /** Applies an unread total unless a newer inbox version has been applied already. */
  Parley.applyUnreadTotal = (total, version) => {
    if (typeof version === 'number') {
      if (version < inboxVersion) return false;
      inboxVersion = version;
    }
    showTotal(total);
    return true;
  };

  Parley.refreshInbox = () =>
    $.ajax({ url: '/api/inbox', dataType: 'json', cache: false }).done((inbox) => {
      if (!inbox || !inbox.ok) return;
      Parley.applyUnreadTotal(inbox.total, inbox.v);
      $doc.trigger('parley:inbox', [inbox]);
    });

  // --- Connection ---------------------------------------------------------------
  let connectedBefore = false;
  socket.on('connect', () => {
    // The session already identifies this socket; adduser confirms it as the article's client did.
    socket.emit('adduser', me, () => undefined);
    if (connectedBefore) {
      $doc.trigger('parley:reconnect');
      Parley.refreshInbox();
    }
    connectedBefore = true;
    $doc.trigger('parley:connection', [true]);
  });
  socket.on('disconnect', () => $doc.trigger('parley:connection', [false]));
  // A handshake refused by the server is final for socket.io-client; when the reason may
  // pass (the database was away), try again by ourselves.
  socket.on('connect_error', (err) => {
    if (!socket.active && err && err.data && err.data.code === 'unavailable') setTimeout(() => socket.connect(), 5000);
  });

  socket.on('sendback', (data) => {
    // A group's messages go to the group's views only: a pair's views key on `friend`.
    if (data && data.message) $doc.trigger(data.group ? 'parley:groupmsg' : 'parley:sendback', [data]);
  });
  socket.on('msgupdate', (data) => {
    if (data && data.message) $doc.trigger('parley:msgupdate', [data]);
  });
  socket.on('unread', (data) => {
    if (!data) return;
    Parley.applyUnreadTotal(data.total, data.v);
    // Per-conversation counts keep their own version: events for different
    // conversations may arrive in another order than their versions.
    $doc.trigger('parley:unread', [data]);
  });
  socket.on('read', (data) => {
    if (data) $doc.trigger(data.conversation ? 'parley:groupread' : 'parley:read', [data]);
  });
  socket.on('presence', (data) => {
    if (data && typeof data.user === 'string') $doc.trigger('parley:presence', [data]);
  });
})();
