// The send queue. Every message the member sends goes through here: it gets a client id,
// is kept in localStorage (one queue per signed-in member) until the server acknowledges
// it, and is sent again after a reconnect or a reload with the same client id, which the
// server stores only once. One message is in flight at a time, oldest first, so they are
// stored in the order they were written.
//
// An entry is `pending` (waiting, being sent, or retrying after a passing failure: the
// database away, the server restarting, no answer, the server's send queue full) or `failed` (refused for good, e.g. a
// blocked member, or rate-limited: the member decides when to retry). Views listen on
// `document` for:
//   parley:outbox (entry)      an entry was added or changed
//   parley:outbox-gone (entry) an entry left the queue without an acknowledgement here
//                              (discarded, or confirmed by a message the server sent)
//   parley:sent (ack, entry)   the server stored the entry's message (ack as in the contract)
(() => {
  'use strict';
  const Parley = window.Parley;
  const socket = Parley && Parley.socket;
  if (!socket) return;
  const KEY = `parley:outbox:${Parley.me}`;
  const $doc = $(document);
  const SEND_TIMEOUT_MS = 10000;
  const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];
  /** Refusals that pass by themselves: the entry stays pending and is sent again. */
  const PASSING = new Set(['unavailable', 'server']);
  /** A refused message nobody retries or removes is dropped after this long. */
  const FAILED_KEPT_MS = 7 * 24 * 60 * 60 * 1000;

  // The queue lives in localStorage so other tabs and the next page load see it; `memory`
  // stands in when storage is unavailable (private mode, quota), for this page only.
  let memory = [];
  let stored = true;
  try {
    window.localStorage.setItem(`${KEY}:probe`, '1');
    window.localStorage.removeItem(`${KEY}:probe`);
  } catch {
    stored = false;
  }

  const isEntry = (e) => e && typeof e.clientId === 'string' && typeof e.content === 'string' && e.to && typeof e.to.username === 'string';

  function read() {
    if (!stored) return memory.slice();
    try {
      const parsed = JSON.parse(window.localStorage.getItem(KEY) || '[]');
      return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
    } catch {
      return memory.slice();
    }
  }

  function write(entries) {
    memory = entries;
    if (!stored) return;
    try {
      if (entries.length) window.localStorage.setItem(KEY, JSON.stringify(entries));
      else window.localStorage.removeItem(KEY);
    } catch {
      // Storage full: the queue still works for this page.
    }
  }

  /** Read, change, write back: another tab may have changed the queue since we last looked. */
  function update(change) {
    const entries = read();
    const result = change(entries);
    write(entries);
    return result;
  }

  function find(clientId) {
    return read().find((e) => e.clientId === clientId) || null;
  }

  function changeEntry(clientId, fields) {
    const entry = update((entries) => {
      const e = entries.find((x) => x.clientId === clientId);
      if (e) Object.assign(e, fields);
      return e || null;
    });
    if (entry) $doc.trigger('parley:outbox', [entry]);
    return entry;
  }

  function remove(clientId) {
    if (!find(clientId)) return null; // the common case (a message long stored): no write
    return update((entries) => {
      const i = entries.findIndex((e) => e.clientId === clientId);
      return i >= 0 ? entries.splice(i, 1)[0] : null;
    });
  }

  const sameName = (a, b) => String(a || '').toLowerCase() === String(b || '').toLowerCase();

  function payloadOf(entry) {
    const payload = { content: entry.content, client_id: entry.clientId };
    if (entry.about) payload.about = entry.about;
    if (entry.to.id) payload.to_user = entry.to.id;
    else payload.to_username = entry.to.username;
    return payload;
  }

  // --- Sending ------------------------------------------------------------------------
  let inFlight = null;
  let timer = null;

  function schedule(at) {
    clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, at - Date.now()));
  }

  /** Sends the oldest pending entry, if the connection is up and its retry time has come. */
  function flush() {
    if (inFlight || !socket.connected) return;
    const next = read().find((e) => e.state === 'pending');
    if (!next) return;
    if (next.notBefore && next.notBefore > Date.now()) return schedule(next.notBefore);
    inFlight = next.clientId;
    socket.timeout(SEND_TIMEOUT_MS).emit('privatemsg', payloadOf(next), (err, res) => {
      inFlight = null;
      // No answer: the connection dropped (resent on reconnect), or the server took too long.
      if (err || !res) retryLater(next, socket.connected ? Parley.str('no-answer') : null);
      else if (res.ok) acknowledged(next, res);
      else if (res.code === 'busy') retryAfterBusy(next, res.retryAfter);
      else if (PASSING.has(res.code)) retryLater(next, res.error);
      else refused(next, res);
      flush();
    });
  }

  function acknowledged(entry, res) {
    remove(entry.clientId);
    $doc.trigger('parley:sent', [res, entry]);
  }

  function retryLater(entry, note) {
    const current = find(entry.clientId);
    if (!current) return; // confirmed or discarded meanwhile
    const attempts = (current.attempts || 0) + 1;
    const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1];
    changeEntry(entry.clientId, { attempts, note, notBefore: Date.now() + delay });
  }

  /**
   * The server's send queue was full and nothing was stored: sent again, with the same
   * client id, after the delay it asked for (ms). The message keeps showing "Sending…":
   * to the member it is simply on its way.
   */
  function retryAfterBusy(entry, retryAfterMs) {
    if (!find(entry.clientId)) return;
    const delay = Math.min(Math.max(Number(retryAfterMs) || 1000, 50), 30000);
    changeEntry(entry.clientId, { note: null, notBefore: Date.now() + delay });
  }

  function refused(entry, res) {
    const retryAt = res.code === 'rateLimited' && res.retryAfter ? Date.now() + res.retryAfter * 1000 : 0;
    changeEntry(entry.clientId, { state: 'failed', error: res.error, code: res.code, field: res.field || null, retryAt, failedAt: Date.now(), note: null });
  }

  // After every (re)connect, whatever waits is sent at once.
  socket.on('connect', () => {
    const waiting = update((entries) =>
      entries.filter((e) => {
        delete e.notBefore;
        delete e.note;
        return e.state === 'pending';
      }),
    );
    waiting.forEach((e) => $doc.trigger('parley:outbox', [e]));
    flush();
  });
  socket.on('disconnect', () => read().forEach((e) => e.state === 'pending' && $doc.trigger('parley:outbox', [e])));

  // A message of ours that the server sends us (another tab's send, a catch-up) is stored.
  $doc.on('parley:sendback', (_e, data) => {
    if (data.message.from === Parley.me) Parley.outbox.confirm(data.message);
  });

  // Another tab changed the queue: views bring their pending messages up to date.
  window.addEventListener('storage', (event) => {
    if (event.key !== KEY) return;
    const now = read();
    let before = [];
    try {
      before = JSON.parse(event.oldValue || '[]');
    } catch {
      before = [];
    }
    for (const e of before) if (isEntry(e) && !now.some((x) => x.clientId === e.clientId)) $doc.trigger('parley:outbox-gone', [e]);
    for (const e of now) $doc.trigger('parley:outbox', [e]);
    flush();
  });

  // Signing out leaves nothing of this member's in the browser (a shared computer): the
  // queue goes too, after asking when it still holds messages that were never sent.
  $doc.on('submit', 'form[action="/logout"]', (event) => {
    const unsent = read().filter((e) => e.state === 'pending').length;
    if (unsent > 0 && !window.confirm(Parley.str('sign-out-unsent', { count: unsent }))) {
      event.preventDefault();
      return;
    }
    memory = [];
    if (stored) window.localStorage.removeItem(KEY);
  });

  Parley.outbox = {
    /** Queues a message to `to` ({ id?, username }) and starts sending it. */
    add(to, content, extra) {
      const entry = Object.assign({ clientId: Parley.clientId(), to: { id: to.id || null, username: to.username }, content, at: Date.now(), state: 'pending' }, extra);
      update((entries) => entries.push(entry));
      $doc.trigger('parley:outbox', [entry]);
      flush();
      return entry;
    },

    /** Sends a refused message again, with the same client id. */
    retry(clientId) {
      if (changeEntry(clientId, { state: 'pending', error: null, code: null, retryAt: 0, notBefore: 0, attempts: 0 })) flush();
    },

    discard(clientId) {
      const entry = remove(clientId);
      if (entry) $doc.trigger('parley:outbox-gone', [entry]);
    },

    /** A message the server has stored: its entry, if still queued, is done. */
    confirm(message) {
      if (!message || message.from !== Parley.me || typeof message.clientId !== 'string') return;
      const entry = remove(message.clientId);
      if (entry) $doc.trigger('parley:outbox-gone', [entry]);
    },

    /** Queued messages to this person, oldest first. */
    entriesFor(other) {
      return read().filter((e) => (e.to.id && other.id ? e.to.id === other.id : sameName(e.to.username, other.username)));
    },

    all: read,
    /** Whether a pending entry is waiting for the connection (as opposed to being sent). */
    isOffline: () => !socket.connected,
  };

  // Refusals nobody dealt with for a week are dropped; pending messages are always kept.
  update((entries) => {
    const cutoff = Date.now() - FAILED_KEPT_MS;
    for (let i = entries.length - 1; i >= 0; i--) if (entries[i].state === 'failed' && entries[i].failedAt < cutoff) entries.splice(i, 1);
  });
})();
