// Telling the member about a new message when they are not looking: a system
// notification while the tab is hidden (only once they allowed it, asked only when they
// click "notify me" on the settings page, never on page load) and a short sound they can
// switch off. Nothing for the conversation they are looking at. (The unread count in the
// tab title is realtime.js's.)
(() => {
  'use strict';
  const Parley = window.Parley;
  if (!Parley || !Parley.socket) return;
  const SOUND_KEY = 'parley.notify.sound';
  const LAST_KEY = 'parley.notify.last';
  const supported = 'Notification' in window;
  const sameName = (a, b) => String(a || '').toLowerCase() === String(b || '').toLowerCase();
  const store = {
    get: (key) => {
      try {
        return window.localStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set: (key, value) => {
      try {
        window.localStorage.setItem(key, value);
      } catch {
        // Storage off (private mode): the default holds.
      }
    },
  };
  const soundOn = () => store.get(SOUND_KEY) !== 'off';

  /** The conversation with `friend` is on screen: its page, or an open chat dialog. */
  function lookingAt(friend) {
    if (document.hidden) return false;
    const page = document.querySelector('[data-chat-page]');
    if (page && (page.getAttribute('data-chat-with-id') === friend._id || sameName(page.getAttribute('data-chat-with'), friend.username))) return true;
    const dialog = document.querySelector('dialog[data-chat][open]');
    return Boolean(dialog && sameName($(dialog).find('[data-chat-title]').text(), friend.username));
  }

  let audio = null;
  function beep() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      // Browsers keep audio suspended until the member has interacted with the page.
      if (audio.state !== 'running') return;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
    } catch {
      // No sound is better than an error.
    }
  }
  // Unlock audio on the first interaction, so a later message can be heard.
  document.addEventListener('pointerdown', () => {
    if (audio && audio.state === 'suspended') audio.resume().catch(() => undefined);
  }, { once: true });

  $(document).on('parley:sendback', (_e, data) => {
    const message = data && data.message;
    const friend = (data && data.friend) || {};
    if (!message || message.from === Parley.me || lookingAt(friend)) return;
    // Several tabs hear the same message: the first one to claim it speaks.
    if (store.get(LAST_KEY) === message._id) return;
    store.set(LAST_KEY, message._id);
    if (soundOn()) beep();
    if (!document.hidden || !supported || Notification.permission !== 'granted') return;
    const body = String(message.content || '').slice(0, 140);
    // One notification per conversation: a newer message replaces the older one.
    const shown = new Notification(friend.username || '', { body, tag: `parley-${friend._id}`, icon: '/static/favicon.svg' });
    shown.onclick = () => {
      window.focus();
      window.location.href = `/messages/${encodeURIComponent(friend.username)}`;
      shown.close();
    };
  });

  // --- The settings page's controls -------------------------------------------------
  const $state = $('[data-notify-state]');
  function showState() {
    if (!$state.length) return;
    const state = !supported ? 'unsupported' : Notification.permission === 'granted' ? 'granted' : Notification.permission === 'denied' ? 'denied' : '';
    $state.text(state ? $state.attr(`data-${state}`) : '').attr('data-permission', supported ? Notification.permission : 'unsupported');
    $('[data-notify-me]').prop('hidden', !supported || Notification.permission === 'granted');
  }
  showState();
  $('[data-notify-me]').on('click', () => {
    if (!supported) return showState();
    const asked = Notification.requestPermission(showState);
    if (asked && typeof asked.then === 'function') asked.then(showState, showState);
  });
  $('[data-notify-sound]')
    .prop('checked', soundOn())
    .on('change', (event) => store.set(SOUND_KEY, event.target.checked ? 'on' : 'off'));
})();
