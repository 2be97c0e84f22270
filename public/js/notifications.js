// The header's bell: its count follows the member's notifications live, in every tab.
// The server sends `notifications` { unread, v } to the member's room on every process;
// a payload older than one already applied (lower v) is ignored.
(() => {
  'use strict';
  const Parley = window.Parley;
  const $count = $('[data-notifications-count]');
  if (!Parley || !Parley.socket || $count.length === 0) return;
  let version = Number($count.attr('data-notifications-version')) || 0;
  const template = $count.attr('data-label-template') || '{count}';

  function show(unread) {
    const n = Math.max(0, Number(unread) || 0);
    if (n > 0) {
      $count.attr('data-notifications', String(n)).attr('aria-label', template.replace('{count}', String(n))).text(String(n)).prop('hidden', false);
    } else {
      $count.removeAttr('data-notifications').removeAttr('aria-label').text('').prop('hidden', true);
    }
  }

  function apply(data) {
    if (!data || typeof data.v !== 'number' || data.v < version) return;
    version = data.v;
    show(data.unread);
    $(document).trigger('parley:notifications', [data]);
  }

  Parley.socket.on('notifications', apply);
  $(document).on('parley:reconnect', () => {
    $.ajax({ url: '/api/notifications', dataType: 'json', cache: false }).done((answer) => {
      if (answer && answer.ok) apply(answer);
    });
  });
})();
