// The typing indicator of a chat view (dialog or conversation page). Outgoing: "typing"
// when the box turns non-empty, again every few seconds while the member keeps typing,
// "stopped" when it empties, on send and on blur. Incoming: "<name> is typing…" under the
// log until they stop, send, or go quiet for twice the refresh time (a tab that vanished).
// Names only ever enter the page through .text().
(() => {
  'use strict';
  const Parley = window.Parley;
  if (!Parley || !Parley.socket) return;
  const socket = Parley.socket;
  const $doc = $(document);
  const REFRESH_MS = 3000;
  let attached = 0;

  /**
   * The outgoing half, for any box: "typing" when it turns non-empty and every REFRESH_MS
   * while it stays so, "stopped" when it empties. `address()` is what the event is sent
   * to (`{ to_user }` or `{ conversation }`), or null while that is not known yet.
   */
  function sayer($textarea, address) {
    let saidTyping = false;
    let lastSaid = 0;
    const say = (typing) => {
      const to = address();
      if (!to) return;
      saidTyping = typing;
      lastSaid = Date.now();
      socket.emit('typing', Object.assign({}, to, { typing }), () => undefined);
    };
    const boxHasText = () => String($textarea.val() || '').trim() !== '';
    return {
      update() {
        if (boxHasText()) {
          if (!saidTyping || Date.now() - lastSaid >= REFRESH_MS) say(true);
        } else if (saidTyping) say(false);
      },
      stop() {
        if (saidTyping) say(false);
      },
      /** After a reconnect the server has forgotten: say it again if still typing. */
      again() {
        saidTyping = false;
        this.update();
      },
    };
  }

  /** Wires typing into a ChatView; returns what to call when the view goes away. */
  function attach(view) {
    const ns = `.typing${++attached}`;
    const $indicator = view.$root.find('[data-typing]');
    let quietTimer = null;
    const out = sayer(view.$textarea, () => (view.other.id ? { to_user: view.other.id } : null));
    const update = () => out.update();
    const stop = () => out.stop();

    const hide = () => {
      clearTimeout(quietTimer);
      $indicator.prop('hidden', true).text('');
    };
    const show = (user) => {
      $indicator.text(Parley.str('typing-one', { name: user.username })).prop('hidden', false);
      clearTimeout(quietTimer);
      quietTimer = setTimeout(hide, 2 * REFRESH_MS);
    };
    const isFromOther = (user) => user && (view.other.id ? user._id === view.other.id : String(user.username).toLowerCase() === String(view.other.username).toLowerCase());

    view.$textarea.on(`input${ns}`, update).on(`blur${ns}`, stop);
    // A send empties the box from script, which fires no input event.
    $doc.on(`parley:outbox${ns}`, (_e, entry) => {
      if (view.isFor(entry)) stop();
    });
    $doc.on(`parley:sendback${ns}`, (_e, data) => {
      if (data && data.message && isFromOther(data.friend) && data.message.from !== Parley.me) hide();
    });
    const onTyping = (data) => {
      if (!data || data.conversation || !isFromOther(data.user)) return;
      if (data.typing) show(data.user);
      else hide();
    };
    socket.on('typing', onTyping);
    // After a reconnect the other side's state is unknown: forget it, and say ours again.
    $doc.on(`parley:reconnect${ns}`, () => {
      hide();
      out.again();
    });

    return {
      detach() {
        stop();
        hide();
        view.$textarea.off(ns);
        $doc.off(ns);
        socket.off('typing', onTyping);
      },
    };
  }

  /**
   * The same for a group's page: says it with `conversation`, and shows who of the group
   * is typing ("<name> is typing…", one line per name in the page's language).
   */
  function attachGroup(group) {
    const ns = `.typing${++attached}`;
    const $indicator = group.$root.find('[data-typing]');
    const typists = new Map(); // user id → { name, timer }
    const out = sayer(group.$textarea, () => ({ conversation: group.id }));
    const update = () => out.update();
    const stop = () => out.stop();
    const render = () => {
      const names = [...typists.values()].map((t) => group.str('typing', { name: t.name }));
      $indicator.text(names.join(' ')).prop('hidden', names.length === 0);
    };
    const forget = (id) => {
      const t = typists.get(id);
      if (t) clearTimeout(t.timer);
      typists.delete(id);
      render();
    };

    group.$textarea.on(`input${ns}`, update).on(`blur${ns}`, stop);
    group.$root.on(`parley:group-sent${ns}`, stop);
    $doc.on(`parley:groupmsg${ns}`, (_e, data) => {
      if (data.message.conversation === group.id) forget(data.message.from);
    });
    socket.on('typing', (data) => {
      if (!data || data.conversation !== group.id || !data.user || data.user._id === Parley.me) return;
      if (!data.typing) return forget(data.user._id);
      const was = typists.get(data.user._id);
      if (was) clearTimeout(was.timer);
      typists.set(data.user._id, { name: data.user.username, timer: setTimeout(() => forget(data.user._id), 2 * REFRESH_MS) });
      render();
    });
    $doc.on(`parley:reconnect${ns}`, () => {
      for (const id of [...typists.keys()]) forget(id);
      out.again();
    });
  }

  Parley.typing = { attach, attachGroup };
})();
