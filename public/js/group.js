// A group conversation's page (/messages/c/:id): messages live, sending over the socket
// (the same privatemsg, with `conversation`; the form posts without JavaScript), "seen by
// k of n" under the newest of the member's own messages with the names on hover or focus,
// who is typing, online dots, and catching up after a reconnect. User text only ever enters
// the page through .text().
(() => {
  'use strict';
  const Parley = window.Parley;
  const root = document.querySelector('[data-group]');
  if (!Parley || !Parley.socket || !root) return;
  const socket = Parley.socket;
  const $doc = $(document);
  const $root = $(root);
  const id = root.getAttribute('data-conversation-id');
  const olderPage = root.hasAttribute('data-older-page');
  const $log = $root.find('[data-chat-log]');
  const $scroll = $root.find('[data-chat-scroll]');
  const $form = $root.find('[data-chat-form]');
  const $textarea = $form.find('textarea[name=content]');
  const $error = $root.find('[data-chat-error]');
  const parse = (name, fallback) => {
    try {
      return JSON.parse(root.getAttribute(name) || '') || fallback;
    } catch {
      return fallback;
    }
  };
  const members = new Map(parse('data-members', []).map((m) => [m._id, m.username]));
  const readSeq = parse('data-read-seq', {});
  const str = (name, vars) =>
    String(root.getAttribute(`data-str-${name}`) || '').replace(/\{(\w+)\}/g, (whole, key) => (vars && key in vars ? String(vars[key]) : whole));

  const seqOf = (el) => Number(el.getAttribute('data-seq')) || 0;
  const items = () => $log.children('[data-message-id]');
  const newestSeq = () => items().toArray().reduce((max, el) => Math.max(max, seqOf(el)), 0);
  const scrollToBottom = () => $scroll.scrollTop($scroll.prop('scrollHeight'));

  /** Shows a message once, in seq order. */
  function add(message) {
    if (!message || message.conversation !== id || olderPage) return false;
    if (items().filter((_, el) => el.getAttribute('data-message-id') === message._id).length) return false;
    const mine = message.from === Parley.me;
    const $li = $('<li class="chat-msg"></li>')
      .addClass(mine ? 'chat-msg-mine' : 'chat-msg-theirs')
      .attr({ 'data-message-id': message._id, 'data-seq': String(message.seq), 'data-from': message.from });
    if (!mine) $('<div class="small text-muted" data-message-sender></div>').text(members.get(message.from) || '').appendTo($li);
    const $bubble = $('<div class="chat-bubble" data-message-content></div>').appendTo($li);
    if (message.hidden) $bubble.addClass('fst-italic text-muted').text(str('hidden'));
    else $bubble.text(message.content);
    $('<time class="chat-time" data-message-time></time>').attr('datetime', message.createdAt).text(Parley.formatDate(message.createdAt)).appendTo($li);
    const later = items().filter((_, el) => seqOf(el) > message.seq).first();
    if (later.length) later.before($li);
    else $log.append($li);
    $root.find('[data-chat-empty]').prop('hidden', true);
    return true;
  }

  /** "Seen by k of n" under my newest message; the names in its title and label. */
  function renderSeen() {
    $log.find('[data-seen-by]').remove();
    const $mine = items().filter((_, el) => el.getAttribute('data-from') === Parley.me).last();
    if (!$mine.length) return;
    const seq = seqOf($mine[0]);
    const others = [...members.keys()].filter((m) => m !== Parley.me);
    const seers = others.filter((m) => (Number(readSeq[m]) || 0) >= seq);
    if (seers.length === 0) return;
    const names = str('seen-names', { names: seers.map((m) => members.get(m)).join(', ') });
    $('<span class="chat-seen" tabindex="0"></span>')
      .attr({ 'data-seen-by': String(seers.length), title: names, 'aria-label': names })
      .text(str('seen-by', { count: seers.length, total: others.length }))
      .appendTo($mine);
  }

  let lastMarked = 0;
  function markRead() {
    const upTo = newestSeq();
    if (olderPage || document.visibilityState === 'hidden' || upTo <= lastMarked) return;
    lastMarked = upTo;
    socket.emit('markread', { conversation: id, upTo }, () => undefined);
  }

  $doc.on('parley:groupmsg', (_e, data) => {
    if (data.group) for (const m of data.group.members) members.set(m._id, m.username);
    if (!add(data.message)) return;
    scrollToBottom();
    renderSeen();
    if (data.message.from !== Parley.me) markRead();
  });
  $doc.on('parley:groupread', (_e, data) => {
    if (data.conversation !== id) return;
    readSeq[data.user] = Math.max(Number(readSeq[data.user]) || 0, Number(data.upTo) || 0);
    renderSeen();
  });
  $doc.on('visibilitychange', markRead);

  // After a reconnect: what arrived meanwhile, then read it.
  $doc.on('parley:reconnect', () => {
    if (olderPage) return;
    $.ajax({ url: `/messages/c/${encodeURIComponent(id)}/history`, data: { after: newestSeq() }, dataType: 'json', cache: false }).done((res) => {
      if (!res || !res.ok) return;
      Object.assign(readSeq, res.readSeq);
      res.messages.forEach(add);
      scrollToBottom();
      renderSeen();
      markRead();
    });
  });

  // Sending: acknowledged once stored; a busy server is asked again after the delay it gives, with the same client id.
  let sending = false;
  function send(content, clientId) {
    sending = true;
    $form.attr('aria-busy', 'true');
    socket.timeout(15000).emit('privatemsg', { conversation: id, content, client_id: clientId }, (err, res) => {
      if (!err && res && !res.ok && res.code === 'busy') return setTimeout(() => send(content, clientId), Number(res.retryAfter) || 1000);
      sending = false;
      $form.attr('aria-busy', 'false');
      if (err || !res || !res.ok) {
        $error.text(res && res.error ? res.error : Parley.str('not-confirmed') || '').prop('hidden', false);
        if (!String($textarea.val() || '').trim()) $textarea.val(content);
        return;
      }
      $error.prop('hidden', true).text('');
      add(res.message);
      scrollToBottom();
      renderSeen();
    });
  }
  $form.on('submit', (event) => {
    event.preventDefault();
    const content = String($textarea.val() || '');
    if (!content.trim() || sending) return;
    $textarea.val('');
    $root.trigger('parley:group-sent');
    send(content, Parley.clientId());
  });
  $textarea.on('keydown', (event) => {
    const e = event.originalEvent || event;
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !e.isComposing) {
      event.preventDefault();
      $form.trigger('submit');
    }
  });

  $root.find('[data-group-leave]').on('click', (event) => {
    if (!window.confirm(event.currentTarget.getAttribute('data-confirm') || '')) event.preventDefault();
  });

  // Online dots of the members (those who blocked this member are never watched: the server leaves them out).
  function watchPresence() {
    const ids = [...members.keys()].filter((m) => m !== Parley.me);
    socket.timeout(10000).emit('watchpresence', ids, (err, res) => {
      if (err || !res || !res.ok) return;
      const online = new Set(res.online);
      $root.find('[data-member-id]').each((_, el) => {
        if (el.getAttribute('data-member-id') !== Parley.me) Parley.showPresence($(el), online.has(el.getAttribute('data-member-id')));
      });
    });
  }
  $doc.on('parley:connection', (_e, up) => {
    if (up) watchPresence();
  });
  $doc.on('parley:presence', (_e, data) => {
    const $m = $root.find('[data-member-id]').filter((_, el) => el.getAttribute('data-member-id') === data.user);
    if ($m.length) Parley.showPresence($m, data.online);
  });
  if (socket.connected) watchPresence();

  if (Parley.typing && Parley.typing.attachGroup) Parley.typing.attachGroup({ id, $root, $textarea, str });
  scrollToBottom();
  markRead();
})();
