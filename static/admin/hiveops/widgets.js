// HiveOps admin widgets: editable tables (RowsWidget) and settings shown per kind
// (KindSettingsMixin). Works without it: every setting is then shown with its kinds named.
(function () {
  "use strict";

  function setUpRows(box) {
    const body = box.querySelector("tbody");
    const template = box.querySelector("template");
    box.querySelector(".hive-add").addEventListener("click", function () {
      const index = Number(box.dataset.next);
      box.dataset.next = String(index + 1);
      const html = template.innerHTML.replaceAll("__row__", String(index))
        .replaceAll("__number__", String(body.rows.length + 1));
      body.insertAdjacentHTML("beforeend", html);
      body.lastElementChild.querySelector("input").focus();
    });
    box.addEventListener("click", function (event) {
      const button = event.target.closest(".hive-remove");
      if (!button) return;
      const row = button.closest("tr");
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      if (body.rows.length > 1) row.remove();
    });
  }

  // Rows of the admin form ("div.form-row" or the field box of a fieldset line) holding a
  // setting that applies to some kinds only.
  function holderOf(input) {
    return input.closest(".fieldBox") || input.closest(".form-row") || input.parentElement;
  }

  function setUpKinds(form) {
    form.querySelectorAll("[data-kind-select]").forEach(function (select) {
      const name = select.dataset.kindSelect;
      const settings = form.querySelectorAll('[data-kind-field="' + name + '"]');
      function show() {
        settings.forEach(function (input) {
          const kinds = input.dataset.kinds.split(" ");
          const on = kinds.indexOf(select.value) !== -1;
          const holder = holderOf(input);
          holder.hidden = !on;
          holder.classList.toggle("hive-hidden", !on);
        });
      }
      select.addEventListener("change", show);
      show();
    });
  }

  // Autocompletes offer objects of the team chosen in the form only (the form refuses others).
  function filterByTeam() {
    const jq = window.django && window.django.jQuery;
    const team = document.getElementById("id_team");
    if (!jq || !team || !jq.ajaxPrefilter) return;
    jq.ajaxPrefilter(function (options) {
      if (options.url && options.url.indexOf("/autocomplete/") !== -1 && /^\d+$/.test(team.value)) {
        options.url += (options.url.indexOf("?") === -1 ? "?" : "&") + "team=" + team.value;
      }
    });
  }

  function start() {
    filterByTeam();
    document.querySelectorAll(".hive-rows").forEach(setUpRows);
    document.querySelectorAll("form").forEach(setUpKinds);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
