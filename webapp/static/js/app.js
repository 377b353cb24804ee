// AccountDesk's own behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  // After an htmx swap, move focus to the first field of a freshly opened inline form, or to an
  // element marked data-autofocus, so keyboard users continue where they are.
  document.addEventListener("htmx:after:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    if (target && !target.isConnected && target.id) {
      target = document.getElementById(target.id);  // an outerHTML swap replaced it
    }
    if (!target || !target.querySelector) return;
    var focus = target.querySelector("[data-autofocus]") ||
      (target.matches("form") ? target : target.querySelector("form.inline-form"));
    if (focus && focus.matches("form")) {
      focus = focus.querySelector("input:not([type=hidden]), select, textarea");
    }
    if (focus) focus.focus();
  });

  // Escape in an inline form presses its «Отмена» button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form.inline-form");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { event.preventDefault(); cancel.click(); }
  });

  // Buttons and links that ask before acting: data-confirm="Удалить контакт?".
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();

// «Отмена» in a form opened in place (the quick contact log on «Мой день») just closes it.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-close-form]");
  var form = button && button.closest("form");
  if (form) { event.preventDefault(); form.remove(); }
});
