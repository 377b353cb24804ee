// AccountDesk's own behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  var FOCUSABLE = "button:not([disabled]), [href], " + FIELDS + ", [tabindex]:not([tabindex='-1'])";

  // Where focus was before a swap: if the swap removes that element, focus must not fall to <body>.
  var focusWasIn = null;
  document.addEventListener("htmx:before:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    var active = document.activeElement;
    focusWasIn = (target && target.contains && active && active !== document.body && target.contains(active)) ? target.id : null;
  });

  // After an htmx swap, move focus to the first invalid field, else the first field of a freshly
  // opened inline form, or to an element marked data-autofocus, so keyboard users continue where
  // they are. A block closed back to its display (saved, cancelled, deleted) gets focus on its first
  // control (the «Изменить» button), instead of losing it to the page.
  document.addEventListener("htmx:after:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    if (target && !target.isConnected && target.id) {
      target = document.getElementById(target.id);  // an outerHTML swap replaced it
    }
    var auto = document.querySelector("[data-autofocus]");
    if (auto) {
      auto.removeAttribute("data-autofocus");
      auto.focus();
      return;
    }
    if (!target || !target.querySelector) return;
    var focus = target.querySelector("[aria-invalid=true]") ||
      (target.matches("form") ? target : target.querySelector("form.inline-form"));
    if (focus && focus.matches("form")) {
      var details = focus.closest("details");
      focus = details && !details.open ? null : focus.querySelector(FIELDS);
    }
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!focus && lost && focusWasIn && target.id === focusWasIn) {
      focus = target.querySelector("button[hx-get]") || target.querySelector(FOCUSABLE);
    }
    focusWasIn = null;
    if (focus) focus.focus();
  });

  // A plain form sent back with errors: start at the first invalid field.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("main [aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  // Escape in an inline form presses its «Отмена» button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form.inline-form");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { event.preventDefault(); cancel.click(); return; }
    // An add form folded in <details> («Добавить контакт») closes and gives focus back to its summary.
    var details = form && form.closest("details[open]");
    if (details) {
      event.preventDefault();
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) summary.focus();
    }
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
