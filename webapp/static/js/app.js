// AccountDesk's own behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  var FOCUSABLE = "button:not([disabled]), [href], " + FIELDS + ", [tabindex]:not([tabindex='-1'])";

  // Where focus was before a swap: if the swap removes that element, focus must not fall to <body>.
  // Kept per target id: a save that refreshes two blocks at once (terms and regulation) has their
  // swaps interleave, and one block's swap must not forget that focus was in the other.
  var focusWasIn = {};
  document.addEventListener("htmx:before:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    var active = document.activeElement;
    if (target && target.id && target.contains && active && active !== document.body && target.contains(active)) {
      focusWasIn[target.id] = true;
    }
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
    var focusWasHere = !!(target && target.id && focusWasIn[target.id]);
    if (target && target.id) delete focusWasIn[target.id];
    // Someone already typing in a field elsewhere keeps the focus: a form that arrives late (opened
    // first, answered last) must not pull the next keystrokes into itself. The field that sent this
    // request (a select that opens a form) hands the focus on as before.
    var active = document.activeElement;
    var source = event.detail && event.detail.ctx && event.detail.ctx.sourceElement;
    if (active && active !== source && active.matches && active.matches(FIELDS) &&
        !(target && target.contains && target.contains(active))) {
      return;
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
    if (!focus && lost && focusWasHere) {
      focus = target.querySelector("button[hx-get]") || target.querySelector(FOCUSABLE);
    }
    if (focus) focus.focus();
  });

  // A plain form sent back with errors: unfold the sections holding them, start at the first one.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("main details").forEach(function (d) {
      if (d.querySelector("[aria-invalid=true], .is-invalid")) d.open = true;
    });
    var invalid = document.querySelector("main [aria-invalid=true], main .is-invalid");
    if (invalid) invalid.focus();
  });

  // --- unsaved work ----------------------------------------------------------------------------
  // A form is changed when a field differs from what the server rendered into it (the default*
  // properties keep that), so no snapshot is needed and a form re-rendered with errors starts clean.
  var UNSAVED = "Закрыть форму? Несохранённые изменения пропадут.";

  function isChanged(form) {
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (el.disabled || el.type === "hidden" || el.type === "submit" || el.type === "button") continue;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) return true;
      } else if (el.tagName === "SELECT") {
        // With no option marked selected, a single select shows its first: that is its default.
        var marked = Array.prototype.some.call(el.options, function (o) { return o.defaultSelected; });
        for (var j = 0; j < el.options.length; j++) {
          var initially = marked ? el.options[j].defaultSelected : (!el.multiple && j === 0);
          if (el.options[j].selected !== initially) return true;
        }
      } else if (el.value !== el.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // Buttons that ask before acting: data-confirm="Убрать пункт из повестки?". Declined, the click goes
  // no further (neither the form nor htmx sees it); a keyboard's Enter or Space is a click too.
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A form being sent does not count as unsaved work about to be lost.
  var sending = null;
  document.addEventListener("submit", function (event) { sending = event.target; }, true);

  function unsavedForms() {
    return Array.prototype.filter.call(document.querySelectorAll("main form:not([method=get])"), function (form) {
      return form !== sending && form.isConnected && isChanged(form);
    });
  }

  // Leaving the page (a link, a reload, closing the tab) with changed forms asks first.
  window.addEventListener("beforeunload", function (event) {
    if (unsavedForms().length) { event.preventDefault(); event.returnValue = ""; }
  });

  // «Отмена» (clicked, or pressed by Escape) on a changed form asks before throwing the changes away.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-cancel]");
    var form = cancel && cancel.closest("form");
    if (form && isChanged(form) && !window.confirm(UNSAVED)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A status change next to forms of the same record (data-guard-form="<selector of those forms>"
  // around its buttons, e.g. the open groups of a regulation draft) would drop their unsaved edits:
  // it is refused, and the note inside the guard says why.
  document.addEventListener("submit", function (event) {
    var guard = event.target.closest && event.target.closest("[data-guard-form]");
    if (!guard) return;
    var forms = document.querySelectorAll(guard.getAttribute("data-guard-form"));
    var changed = Array.prototype.some.call(forms, function (form) {
      return form !== event.target && isChanged(form);
    });
    if (!changed) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    sending = null;
    var note = guard.querySelector("[data-guard-note]");
    if (note) { note.hidden = false; note.focus(); }
  }, true);

  // «Печать» (data-print): the browser's print dialog for a page made for paper.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  // A link to a folded section («Связь и планёрки» in the regulation editor) unfolds it: the
  // <details> itself, or the one inside the card it points at. So does the page opened at its anchor.
  function unfold(id) {
    var target = id && document.getElementById(id);
    var details = target && (target.tagName === "DETAILS" ? target : target.querySelector("details"));
    if (details) details.open = true;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-open-group]");
    if (link) unfold(link.getAttribute("href").slice(1));
  });
  function unfoldAnchored() {
    var hash = window.location.hash.slice(1);
    if (hash && document.querySelector("a[data-open-group][href='#" + CSS.escape(hash) + "']")) unfold(hash);
  }
  document.addEventListener("DOMContentLoaded", unfoldAnchored);
  window.addEventListener("hashchange", unfoldAnchored);

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
      if (isChanged(form) && !window.confirm(UNSAVED)) return;
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  // Ctrl+Enter (⌘+Enter) in a form marked data-ctrl-enter sends it, from any of its fields.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form[data-ctrl-enter]");
    if (form) { event.preventDefault(); form.requestSubmit(); }
  });

  // Blocks folded on a tablet (data-open-wide) are open on a laptop's wider screen, also when a
  // save or a refresh draws them anew.
  function openWide() {
    if (!window.matchMedia("(min-width: 992px)").matches) return;
    document.querySelectorAll("details[data-open-wide]:not([open])").forEach(function (d) { d.open = true; });
  }
  document.addEventListener("DOMContentLoaded", openWide);
  document.addEventListener("htmx:after:swap", openWide);

})();

// «Отмена» in a form opened in place (the quick contact log on «Мой день») closes it and gives the
// focus back to the button that opened it (data-return-focus), not to the page.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-close-form]");
  var form = button && button.closest("form");
  if (!form) return;
  event.preventDefault();
  var back = document.getElementById(form.getAttribute("data-return-focus") || "");
  form.remove();
  if (back) back.focus();
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

// A meeting's fields save themselves as they are typed (data-autosave): 800 ms after the last
// keystroke, or at once on a change of a select or date. Only the field's own value goes, with the
// version and what the page showed of it; the answer replaces the field's save state («сохранено»,
// a conflict with both texts, a refusal). A dropped connection keeps the text in the field and sends
// it again when the connection returns (the «online» event, or every few seconds).
(function () {
  "use strict";

  var DELAY = 800;
  var RETRY = 4000;

  function field(form) {
    return form.querySelector("[name=value]");
  }

  function status(form, text) {
    var place = form.querySelector(".save-status");
    if (place) place.textContent = text;
  }

  function send(form) {
    var state = form._autosave;
    if (state.inFlight) {
      state.again = true;
      return;
    }
    clearTimeout(state.timer);
    var input = field(form);
    var sent = input.value;
    state.inFlight = true;
    status(form, "сохраняется…");
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: {"HX-Request": "true", "HX-Request-Type": "partial"}
    }).then(function (response) {
      return response.text().then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector(".save-state");
        var old = form.querySelector(".save-state");
        if (fresh && old) old.replaceWith(fresh);
        if (response.ok) {
          input.defaultValue = sent;
          if (input.tagName === "SELECT") {
            Array.prototype.forEach.call(input.options, function (o) { o.defaultSelected = o.selected; });
          }
          form.classList.remove("autosave-offline");
        }
        state.inFlight = false;
        if (response.ok && (state.again || input.value !== sent)) {
          state.again = false;
          send(form);
        }
      });
    }).catch(function () {
      state.inFlight = false;
      form.classList.add("autosave-offline");
      status(form, "нет связи — текст сохранится, когда связь вернётся");
      clearTimeout(state.timer);
      state.timer = setTimeout(function () { send(form); }, RETRY);
    });
  }

  function setUp(form) {
    if (form._autosave) return;
    form._autosave = {timer: null, inFlight: false, again: false};
    form.addEventListener("input", function () {
      clearTimeout(form._autosave.timer);
      form._autosave.timer = setTimeout(function () { send(form); }, DELAY);
    });
    form.addEventListener("change", function (event) {
      if (event.target.tagName !== "TEXTAREA") send(form);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
    // Text typed before this script ran (a quick hand on a slow laptop) raised no event we heard.
    var input = field(form);
    if (input && input.tagName !== "SELECT" && input.value !== input.defaultValue) {
      form._autosave.timer = setTimeout(function () { send(form); }, DELAY);
    }
  }

  function setUpAll() {
    document.querySelectorAll("form[data-autosave]").forEach(setUp);
  }

  window.addEventListener("online", function () {
    document.querySelectorAll("form[data-autosave].autosave-offline").forEach(send);
  });
  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:after:swap", setUpAll);
})();
