// The composer's Write / Preview tabs: Preview asks the server to render what is typed
// (POST /preview, the same renderer as the page) and shows its HTML, which the server
// made safe (src/forum/text.ts).
$(function () {
  $('[data-markdown-editor]').each(function () {
    const $editor = $(this);
    const $text = $editor.find('textarea');
    const $preview = $editor.find('[data-markdown-preview]');
    const token = $editor.closest('form').find('input[name=_csrf]').val();
    const show = (tab) => {
      $editor.find('[data-editor-tab]').each(function () {
        $(this).toggleClass('active', $(this).attr('data-editor-tab') === tab);
      });
      $text.prop('hidden', tab === 'preview');
      $preview.prop('hidden', tab !== 'preview');
    };
    $editor.find('[data-editor-tab=write]').on('click', () => {
      show('write');
      $text.trigger('focus');
    });
    $editor.find('[data-editor-tab=preview]').on('click', () => {
      show('preview');
      $preview.attr('aria-busy', 'true').empty();
      $.ajax({
        url: '/preview',
        method: 'POST',
        contentType: 'application/json',
        headers: { 'X-CSRF-Token': token },
        data: JSON.stringify({ body: String($text.val() || '') }),
        dataType: 'json',
      })
        .done((answer) => $preview.html(answer.html))
        .fail((xhr) => $preview.empty().append($('<p class="text-danger mb-0">').text((xhr.responseJSON && xhr.responseJSON.error) || xhr.statusText)))
        .always(() => $preview.removeAttr('aria-busy'));
    });
  });
});
