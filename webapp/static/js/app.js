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

// The client's backlog: reorder by drag and drop (SortableJS) or by the «в начало / выше / ниже»
// buttons, saved at once as a move before or after a neighbour, announced to screen readers.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers:inherited") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function announce(text) {
    var status = document.getElementById("reorder-status");
    if (status) status.textContent = text;
  }

  function rows(tbody) {
    return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-item-id]"));
  }

  // After a move the buttons point at the new neighbours: «выше» before the previous row, «ниже»
  // after the next one, «в начало» before the first.
  function refreshButtons(tbody) {
    var all = rows(tbody);
    all.forEach(function (row, index) {
      var targets = {top: all[0], up: all[index - 1], down: all[index + 1]};
      row.querySelectorAll("form.rank-move").forEach(function (form) {
        var neighbour = targets[form.getAttribute("data-move")];
        var input = form.querySelector("input[name=before], input[name=after]");
        var button = form.querySelector("button");
        var usable = neighbour && neighbour !== row;
        input.value = usable ? neighbour.getAttribute("data-item-id") : "";
        button.disabled = !usable;
      });
    });
  }

  function save(tbody, row, field, neighbour) {
    var url = tbody.getAttribute("data-rank-url").replace(/\/0\/rank$/, "/" + row.getAttribute("data-item-id") + "/rank");
    var body = new URLSearchParams();
    body.append(field, neighbour.getAttribute("data-item-id"));
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true", "HX-Request-Type": "partial"}
    }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          var holder = document.createElement("div");
          holder.innerHTML = text;
          throw new Error(holder.textContent.trim() || "Не удалось сохранить порядок.");
        });
      }
      var place = rows(tbody).indexOf(row) + 1;
      announce(row.getAttribute("data-item-key") + ": теперь " + place + "-я из " + rows(tbody).length + ".");
    }).catch(function (error) {
      announce(error.message + " Обновите страницу.");
    });
  }

  function setUp(tbody) {
    if (tbody.getAttribute("data-sortable-ready")) return;
    tbody.setAttribute("data-sortable-ready", "1");
    if (window.Sortable) {
      window.Sortable.create(tbody, {
        handle: ".drag-handle", draggable: "tr[data-item-id]", animation: 150,
        onEnd: function (event) {
          if (event.oldIndex === event.newIndex) return;
          var row = event.item, all = rows(tbody), index = all.indexOf(row);
          refreshButtons(tbody);
          if (index < all.length - 1) save(tbody, row, "before", all[index + 1]);
          else save(tbody, row, "after", all[index - 1]);
        }
      });
    }
    tbody.addEventListener("submit", function (event) {
      var form = event.target.closest("form.rank-move");
      if (!form) return;
      event.preventDefault();
      var row = form.closest("tr"), input = form.querySelector("input[name=before], input[name=after]");
      var neighbour = tbody.querySelector("tr[data-item-id='" + input.value + "']");
      if (!neighbour) return;
      var move = form.getAttribute("data-move");
      if (input.name === "before") tbody.insertBefore(row, neighbour);
      else tbody.insertBefore(row, neighbour.nextSibling);
      refreshButtons(tbody);
      // Keep the keyboard where it was: on the same button, or its neighbour if it is now disabled.
      var same = row.querySelector("form.rank-move[data-move='" + move + "'] button");
      var focus = same && !same.disabled ? same : row.querySelector("form.rank-move button:not([disabled])");
      if (focus) focus.focus();
      save(tbody, row, input.name, neighbour);
    });
  }

  function setUpAll() {
    document.querySelectorAll("tbody[data-sortable]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:after:swap", setUpAll);
})();
