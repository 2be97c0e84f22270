// A conversation in the browser: the chat dialog (opened from any [data-chat-user]) and
// the pane of /messages/:username share this view. Sending goes through the send queue
// (outbox.js): a message shows at once as pending, then as sent, or as failed with Retry.
// User text only ever enters the page through .text().
(() => {
  'use strict';
  const Parley = window.Parley;
  if (!Parley || !Parley.socket) return;
  const socket = Parley.socket;
  const $doc = $(document);
  const NEAR_BOTTOM_PX = 80;
  const messageTemplate = document.querySelector('template[data-message-template]');
  let views = 0;

  const seqOf = (el) => Number(el.getAttribute('data-seq')) || 0;
  const sameName = (a, b) => String(a || '').toLowerCase() === String(b || '').toLowerCase();

  /**
   * Shows a message's state on its line: its text or "message deleted", "edited", the post
   * it is about, and the author's edit and delete tools (their forms also work without script).
   */
  function showChange($li, message) {
    const deleted = message.deleted === true;
    const mine = message.from === Parley.me;
    $li.toggleClass('chat-msg-deleted', deleted).attr('data-deleted', deleted ? '' : null);
    // The server renders the Markdown (forum/text.ts); a client without it shows the text.
    const $content = $li.find('[data-message-content]').toggleClass('user-text', !deleted && typeof message.html === 'string');
    if (deleted) $content.text(Parley.str('msg-deleted'));
    else if (typeof message.html === 'string') $content.html(message.html);
    else $content.text(message.content);
    $li.find('[data-message-edited]').prop('hidden', deleted || !message.editedAt);
    const about = !deleted && message.about;
    $li.find('[data-message-about]').prop('hidden', !about);
    if (about) $li.find('[data-message-about-link]').attr('href', `/posts/${encodeURIComponent(about._id)}`).text(about.title);
    const $tools = $li.find('[data-message-tools]').prop('hidden', !mine || deleted);
    if (mine && !deleted) {
      $tools.find('[data-edit-form]').attr('action', `/messages/m/${encodeURIComponent(message._id)}/edit`);
      $tools.find('[data-delete-form]').attr('action', `/messages/m/${encodeURIComponent(message._id)}/delete`);
      const $box = $tools.find('[data-edit-form] textarea');
      if (!$tools.find('[data-edit]').prop('open')) $box.val(message.content);
    } else $tools.find('[data-edit]').prop('open', false);
  }

  class ChatView {
    constructor(root, other) {
      this.$root = $(root);
      this.other = other; // { id (null until known), username }
      this.$log = this.$root.find('[data-chat-log]');
      this.$scroll = this.$root.find('[data-chat-scroll]');
      this.$form = this.$root.find('[data-chat-form]');
      this.$textarea = this.$form.find('textarea[name=content]');
      this.$error = this.$root.find('[data-chat-error]');
      this.$notice = this.$root.find('[data-chat-notice]');
      this.$older = this.$root.find('[data-chat-older]');
      this.$empty = this.$root.find('[data-chat-empty]');
      this.readUpTo = Number(this.$root.attr('data-read-up-to')) || 0;
      this.olderPage = this.$root.is('[data-older-page]');
      this.loaded = false;
      /** The first load while it is in flight. */
      this.loading = null;
      this.lastMarked = 0;
      /** Ticks the "wait N s" of rate-limited messages while there are any. */
      this.countdown = null;
      this.ns = `.chat${++views}`;
      this.$form.prop('noValidate', true);
      this.bind();
      this.typing = Parley.typing ? Parley.typing.attach(this) : null;
    }

    bind() {
      const ns = this.ns;
      this.$form.on(`submit${ns}`, (event) => {
        event.preventDefault();
        this.send();
      });
      this.$textarea.on(`keydown${ns}`, (event) => {
        const e = event.originalEvent || event;
        if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !e.isComposing) {
          event.preventDefault();
          this.send();
        }
      });
      this.$older.on(`click${ns}`, (event) => {
        event.preventDefault();
        this.loadOlder();
      });
      $doc.on(`parley:sendback${ns}`, (_e, data) => this.onSendback(data));
      $doc.on(`parley:sent${ns}`, (_e, res) => this.onSent(res));
      $doc.on(`parley:outbox${ns}`, (_e, entry) => this.showQueued(entry));
      $doc.on(`parley:outbox-gone${ns}`, (_e, entry) => this.queuedItem(entry.clientId).remove());
      this.$log.on(`click${ns}`, '[data-retry]', (event) => Parley.outbox.retry($(event.currentTarget).closest('li').attr('data-client-id')));
      this.$log.on(`click${ns}`, '[data-discard]', (event) => Parley.outbox.discard($(event.currentTarget).closest('li').attr('data-client-id')));
      $doc.on(`parley:read${ns}`, (_e, data) => this.onRead(data));
      $doc.on(`parley:msgupdate${ns}`, (_e, data) => this.onUpdate(data.message));
      this.$log.on(`submit${ns}`, '[data-edit-form]', (event) => {
        event.preventDefault();
        this.edit($(event.currentTarget).closest('li'), String($(event.currentTarget).find('textarea[name=content]').val() || ''));
      });
      this.$log.on(`submit${ns}`, '[data-delete-form]', (event) => {
        event.preventDefault();
        this.remove($(event.currentTarget).closest('li'));
      });
      // In the edit box Enter saves, as in the message box, and Escape closes it.
      this.$log.on(`keydown${ns}`, '[data-edit-form] textarea', (event) => {
        const e = event.originalEvent || event;
        if (event.key === 'Enter' && !event.shiftKey && !e.isComposing) {
          event.preventDefault();
          $(event.currentTarget).closest('form').trigger('submit');
        } else if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          const details = $(event.currentTarget).closest('details').prop('open', false);
          details.find('summary').trigger('focus');
        }
      });
      $doc.on(`parley:reconnect${ns}`, () => this.catchUp());
      $doc.on(`parley:connection${ns}`, (_e, up) => this.showConnection(up));
      $doc.on(`visibilitychange${ns}`, () => this.markRead());
    }

    destroy() {
      if (this.typing) this.typing.detach();
      $doc.off(this.ns);
      this.$root.off(this.ns);
      this.$log.off(this.ns);
      clearInterval(this.countdown);
    }

    items() {
      return this.$log.children('[data-message-id]');
    }

    newestSeq(filter) {
      let max = 0;
      this.items().each((_, el) => {
        if (!filter || filter(el)) max = Math.max(max, seqOf(el));
      });
      return max;
    }

    oldestSeq() {
      let min = 0;
      this.items().each((_, el) => {
        min = min === 0 ? seqOf(el) : Math.min(min, seqOf(el));
      });
      return min;
    }

    /** Shows a message once, in seq order, whatever order it arrives in; a queued copy of it becomes it. */
    add(message) {
      if (!message || typeof message._id !== 'string') return null;
      const exists = this.items().filter((_, el) => el.getAttribute('data-message-id') === message._id);
      if (exists.length) {
        // Shown already: it may have been edited or deleted since (a catch-up after a reconnect).
        showChange(exists, message);
        return null;
      }
      const mine = message.from === Parley.me;
      const queued = mine ? this.queuedItem(message.clientId) : $();
      const li = queued.length ? queued.detach()[0] : messageTemplate.content.firstElementChild.cloneNode(true);
      const $li = $(li)
        .attr({ 'data-message-id': message._id, 'data-seq': String(message.seq), 'data-from': message.from, 'data-client-id': message.clientId })
        .removeAttr('data-state')
        .removeClass('chat-msg-pending chat-msg-failed')
        .toggleClass('chat-msg-mine', mine)
        .toggleClass('chat-msg-theirs', !mine);
      $li.find('[data-message-status], [data-message-actions]').remove();
      $li.find('[data-message-time]').prop('hidden', false).attr('datetime', message.createdAt).text(Parley.formatDate(message.createdAt));
      showChange($li, message);
      // Stored messages in seq order, then what is still queued.
      const later = this.items().filter((_, el) => seqOf(el) > message.seq).first();
      const firstQueued = this.$log.children('[data-state]').first();
      if (later.length) later.before(li);
      else if (firstQueued.length) firstQueued.before(li);
      else this.$log.append(li);
      this.$empty.prop('hidden', true);
      if (mine) Parley.outbox.confirm(message);
      return li;
    }

    /** The queued (not yet stored) copy of a message of ours, by client id. */
    queuedItem(clientId) {
      return this.$log.children('[data-state]').filter((_, el) => el.getAttribute('data-client-id') === clientId);
    }

    isFor(entry) {
      return this.other.id && entry.to.id ? entry.to.id === this.other.id : sameName(entry.to.username, this.other.username);
    }

    /** Shows a queued message as pending (sending, waiting, retrying) or failed (with Retry). */
    showQueued(entry) {
      if (!this.loaded || this.olderPage || !this.isFor(entry)) return;
      let $li = this.queuedItem(entry.clientId);
      if (!$li.length) {
        $li = $(messageTemplate.content.firstElementChild.cloneNode(true)).addClass('chat-msg-mine').removeClass('chat-msg-theirs').attr('data-client-id', entry.clientId);
        $li.find('[data-message-content]').text(entry.content);
        $li.find('[data-message-time]').prop('hidden', true);
        $li.append('<span class="chat-status" data-message-status></span>');
        this.$log.append($li);
        this.$empty.prop('hidden', true);
        this.scrollToBottom();
      }
      const failed = entry.state === 'failed';
      $li.attr('data-state', entry.state).toggleClass('chat-msg-pending', !failed).toggleClass('chat-msg-failed', failed);
      $li.find('[data-message-actions]').remove();
      if (!failed) {
        const status = entry.note ? `${entry.note} ${Parley.str('retrying')}` : Parley.str(Parley.outbox.isOffline() ? 'waiting' : 'sending');
        $li.find('[data-message-status]').text(status).removeAttr('role');
        return;
      }
      // A refusal is announced, and the member chooses: send again or remove it.
      $li.find('[data-message-status]').attr('role', 'alert').text(entry.error || '');
      const $actions = $('<span class="chat-actions" data-message-actions></span>').appendTo($li);
      $('<button type="button" class="btn btn-link btn-sm p-0" data-retry></button>').text(Parley.str('retry')).appendTo($actions);
      $('<button type="button" class="btn btn-link btn-sm p-0" data-discard></button>').text(Parley.str('discard')).appendTo($actions);
      if (entry.retryAt > Date.now()) {
        $('<span class="chat-wait" data-wait></span>').attr('data-until', String(entry.retryAt)).prependTo($actions);
        this.tick();
      }
    }

    /** Counts down "wait N s" on rate-limited messages; Retry comes back when it reaches 0. */
    tick() {
      const waits = this.$log.find('[data-wait]');
      waits.each((_, el) => {
        const seconds = Math.ceil((Number(el.getAttribute('data-until')) - Date.now()) / 1000);
        const $retry = $(el).siblings('[data-retry]');
        if (seconds > 0) {
          $(el).text(Parley.str('wait', { seconds }));
          $retry.prop('disabled', true);
        } else {
          $(el).remove();
          $retry.prop('disabled', false);
        }
      });
      const counting = this.$log.find('[data-wait]').length > 0;
      if (counting && !this.countdown) this.countdown = setInterval(() => this.tick(), 1000);
      if (!counting) {
        clearInterval(this.countdown);
        this.countdown = null;
      }
    }

    /** Everything queued for this conversation; what the server already has is confirmed first. */
    showAllQueued() {
      this.items().each((_, el) => Parley.outbox.confirm({ from: el.getAttribute('data-from'), clientId: el.getAttribute('data-client-id') }));
      Parley.outbox.entriesFor(this.other).forEach((entry) => this.showQueued(entry));
    }

    isNearBottom() {
      const el = this.$scroll[0];
      return !el || el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    }

    scrollToBottom() {
      const el = this.$scroll[0];
      if (el) el.scrollTop = el.scrollHeight;
    }

    showError(text) {
      this.$error.text(text).prop('hidden', false);
    }

    hideError() {
      this.$error.prop('hidden', true).text('');
    }

    showNotice(kind, text) {
      this.noticeKind = kind;
      this.$notice.text(text).prop('hidden', false);
    }

    hideNotice(kind) {
      if (kind && this.noticeKind !== kind) return;
      this.noticeKind = null;
      this.$notice.prop('hidden', true).text('');
    }

    showConnection(up) {
      if (up) this.hideNotice('connection');
      else this.showNotice('connection', Parley.str('reconnecting'));
    }

    /** Queues the message: it shows at once, and is sent as soon as it can be. */
    send() {
      const content = String(this.$textarea.val() || '');
      if (!content.trim()) {
        this.showError(Parley.str('empty'));
        this.$textarea.trigger('focus');
        return;
      }
      this.hideError();
      this.$textarea.val('');
      // A dialog opened on a post sends the post with its first message ("about: <title>").
      Parley.outbox.add({ id: this.other.id, username: this.other.username }, content, this.about ? { about: this.about } : undefined);
      this.about = null;
      this.scrollToBottom();
    }

    /** The server stored a message of ours, sent from this tab. */
    onSent(res) {
      if (!res.friend || !this.isThisConversation(res.friend)) return;
      if (!this.other.id) this.other.id = res.friend._id;
      if (this.olderPage) return;
      this.add(res.message);
      this.scrollToBottom();
      // The header's dot was right when the dialog opened; the answer to a send is newer.
      this.showPresence(res.online !== false);
      if (res.online === false) this.showNotice('offline', Parley.str('offline', { username: this.other.username }));
      else this.hideNotice('offline');
    }

    isThisConversation(friend) {
      if (!friend) return false;
      return this.other.id ? friend._id === this.other.id : sameName(friend.username, this.other.username);
    }

    onSendback(data) {
      if (this.olderPage || !this.isThisConversation(data.friend)) return;
      const nearBottom = this.isNearBottom();
      if (!this.add(data.message)) return;
      // Only the reader's own messages pull the view down; reading older lines is left alone.
      if (nearBottom || data.message.from === Parley.me) this.scrollToBottom();
      if (data.message.from !== Parley.me) this.markRead();
    }

    /** A message here was edited or deleted (by its author, in any tab). */
    onUpdate(message) {
      if (!message || typeof message._id !== 'string') return;
      const $li = this.items().filter((_, el) => el.getAttribute('data-message-id') === message._id);
      if ($li.length) showChange($li, message);
    }

    /** Sends an edit of my message; the answer (and every other tab) shows it. */
    edit($li, content) {
      if (!content.trim()) {
        this.showError(Parley.str('empty'));
        return;
      }
      this.hideError();
      socket.emit('editmsg', { message_id: $li.attr('data-message-id'), content }, (res) => {
        if (res && res.ok) {
          showChange($li, res.message);
          $li.find('[data-edit]').prop('open', false);
          $li.find('[data-edit-button]').trigger('focus');
        } else this.showError((res && res.error) || Parley.str('load-failed'));
      });
    }

    remove($li) {
      this.hideError();
      socket.emit('deletemsg', { message_id: $li.attr('data-message-id') }, (res) => {
        if (res && res.ok) {
          showChange($li, res.message);
          this.$textarea.trigger('focus');
        } else this.showError((res && res.error) || Parley.str('load-failed'));
      });
    }

    onRead(data) {
      if (!this.other.id || data.user !== this.other.id) return;
      this.readUpTo = Math.max(this.readUpTo, Number(data.upTo) || 0);
      this.renderSeen();
    }

    /** "Seen" under the newest of my messages the other person has read. */
    renderSeen() {
      this.$log.find('[data-chat-seen]').remove();
      const read = this.items().filter((_, el) => el.classList.contains('chat-msg-mine') && seqOf(el) <= this.readUpTo).last();
      if (read.length) $('<span class="chat-seen" data-chat-seen></span>').text(Parley.str('seen')).appendTo(read);
    }

    /** Tells the server (and so every tab) that what is shown has been read. */
    markRead() {
      if (!this.loaded || this.olderPage || document.visibilityState !== 'visible') return;
      const newestTheirs = this.newestSeq((el) => el.getAttribute('data-from') !== Parley.me);
      if (!newestTheirs || newestTheirs <= this.lastMarked) return;
      this.lastMarked = newestTheirs;
      const who = this.other.id ? { user: this.other.id } : { username: this.other.username };
      socket.emit('markread', Object.assign(who, { upTo: this.newestSeq() }), () => undefined);
    }

    history(query) {
      return $.ajax({
        url: `/messages/${encodeURIComponent(this.other.username)}/history`,
        data: query,
        dataType: 'json',
        cache: false,
      });
    }

    failed(xhr) {
      const body = xhr && xhr.responseJSON;
      this.showError((body && body.error) || Parley.str('load-failed'));
    }

    /** The dialog's first load: the newest page of the conversation. */
    load() {
      if (this.loading) return this.loading;
      this.loading = this.history({})
        .done((res) => {
          this.applyUser(res.user);
          this.readUpTo = res.readUpTo || 0;
          res.messages.forEach((m) => this.add(m));
          this.loaded = true;
          this.showAllQueued();
          this.$root.find('[data-chat-loading]').prop('hidden', true);
          this.$empty.prop('hidden', this.items().length > 0);
          this.$older.prop('hidden', !res.hasOlder);
          this.scrollToBottom();
          this.renderSeen();
          this.markRead();
        })
        .fail((xhr) => {
          this.$root.find('[data-chat-loading]').prop('hidden', true);
          this.failed(xhr);
        })
        .always(() => {
          this.loading = null;
        });
      return this.loading;
    }

    applyUser(user) {
      if (!user) return;
      this.other.id = user._id;
      this.other.username = user.username;
      this.$root.find('[data-chat-title]').text(user.username).attr('href', `/messages/${encodeURIComponent(user.username)}`);
      this.$root.find('[data-chat-avatar]').attr('src', user.avatar);
      this.showPresence(user.online);
    }

    showPresence(online) {
      Parley.showPresence(this.$root, online);
    }

    /** After a reconnect: everything newer than the newest message shown, each once. */
    catchUp() {
      if (this.olderPage) return;
      if (!this.loaded) {
        this.load();
        return;
      }
      // From the oldest message shown, not the newest: those shown may have been edited or deleted meanwhile.
      this.catchUpFrom(Math.max(0, this.oldestSeq() - 1), this.isNearBottom());
    }

    catchUpFrom(after, nearBottom) {
      this.history({ after })
        .done((res) => {
          res.messages.forEach((m) => this.add(m));
          if (nearBottom) this.scrollToBottom();
          this.markRead();
          if (res.hasNewer && res.messages.length > 0) this.catchUpFrom(res.messages[res.messages.length - 1].seq, nearBottom);
        })
        .fail((xhr) => this.failed(xhr));
    }

    /** Older messages above, keeping the reader's place. */
    loadOlder() {
      const before = this.oldestSeq();
      if (!before) return;
      this.$older.prop('disabled', true).addClass('disabled');
      this.history({ before })
        .done((res) => {
          const el = this.$scroll[0];
          const fromBottom = el.scrollHeight - el.scrollTop;
          res.messages.forEach((m) => this.add(m));
          el.scrollTop = el.scrollHeight - fromBottom;
          this.$older.prop('hidden', !res.hasOlder).attr('href', `?before=${this.oldestSeq()}`);
          this.renderSeen();
        })
        .fail((xhr) => this.failed(xhr))
        .always(() => this.$older.prop('disabled', false).removeClass('disabled'));
    }
  }

  // --- The dialog -----------------------------------------------------------------
  const dialogTemplate = document.querySelector('template[data-chat-template]');
  let open = null;

  function openChat(username, opener) {
    if (open) open.close();
    const dialog = dialogTemplate.content.firstElementChild.cloneNode(true);
    document.body.appendChild(dialog);
    const view = new ChatView(dialog, { id: null, username });
    const post = document.querySelector('[data-post-id]');
    view.about = post ? post.getAttribute('data-post-id') : null;
    $(dialog).find('[data-chat-title]').text(username).attr('href', `/messages/${encodeURIComponent(username)}`);
    $(dialog).find('[data-chat-close]').on('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      view.destroy();
      dialog.remove();
      if (open === dialog) open = null;
      if (opener && document.contains(opener)) opener.focus();
    });
    dialog.showModal();
    view.$textarea.trigger('focus');
    view.load();
    open = dialog;
  }

  // The avatar may be the [data-chat-user] element itself or sit inside the button or
  // link that receives a keyboard "click".
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target || !dialogTemplate) return;
    let el = target.closest('[data-chat-user]');
    if (!el) {
      const control = target.closest('button, a');
      el = control && control.querySelector('[data-chat-user]');
    }
    if (!el) return;
    const username = el.getAttribute('data-chat-user');
    if (!username || sameName(username, Parley.myUsername)) return;
    event.preventDefault();
    openChat(username, target.closest('button, a, [tabindex]') || el);
  });

  // --- The conversation page -------------------------------------------------------
  const page = document.querySelector('[data-chat-page]');
  if (page) {
    const view = new ChatView(page, { id: page.getAttribute('data-chat-with-id'), username: page.getAttribute('data-chat-with') });
    view.loaded = true;
    view.showAllQueued();
    // Opening the page (a GET) marks nothing read: the page says what it has shown.
    view.markRead();
    view.renderSeen();
    view.scrollToBottom();
  }
})();
