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

  /** Wires typing into a ChatView; returns what to call when the view goes away. */
  function attach(view) {
    const ns = `.typing${++attached}`;
    const $indicator = view.$root.find('[data-typing]');
    let saidTyping = false;
    let lastSaid = 0;
    let quietTimer = null;

    const say = (typing) => {
      if (!view.other.id) return; // not known yet: nothing to address it to
      saidTyping = typing;
      lastSaid = Date.now();
      socket.emit('typing', { to_user: view.other.id, typing }, () => undefined);
    };
    const boxHasText = () => String(view.$textarea.val() || '').trim() !== '';
    const update = () => {
      if (boxHasText()) {
        if (!saidTyping || Date.now() - lastSaid >= REFRESH_MS) say(true);
      } else if (saidTyping) say(false);
    };
    const stop = () => {
      if (saidTyping) say(false);
    };

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
      saidTyping = false;
      update();
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

  Parley.typing = { attach };
})();
