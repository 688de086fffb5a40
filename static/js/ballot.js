// Progressive enhancement for the ballot: the form works without this file.
// Adds the live remaining-budget meter (knapsack), a choice counter (approval)
// and a points counter (cumulative). The server validates everything again.
(function () {
  "use strict";
  var form = document.querySelector("form.ballot");
  if (!form) { return; }
  var kind = form.dataset.kind;
  var budget = parseInt(form.dataset.budget, 10) || 0;
  var maxChoices = parseInt(form.dataset.maxChoices, 10) || 0;
  var points = parseInt(form.dataset.points, 10) || 0;
  var minSpend = Math.ceil((parseInt(form.dataset.minSpend, 10) || 0) * budget / 100);
  var lang = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(lang);
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: form.dataset.currency || "USD", maximumFractionDigits: 0 });

  // The page gives each sentence in the reader's language, with {name} where a value goes.
  function say(key, values) {
    return form.dataset[key].replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function checkedBoxes() { return form.querySelectorAll("input[name=project]:checked"); }

  function updateKnapsack() {
    var spent = 0;
    checkedBoxes().forEach(function (box) { spent += parseInt(box.dataset.cost, 10) || 0; });
    var left = budget - spent;
    var text = left >= 0
      ? say("sayChosen", { spent: money.format(spent), budget: money.format(budget), left: money.format(left) })
      : say("sayOverBudget", { over: money.format(-left) });
    if (left >= 0 && spent < minSpend) {
      text += " " + say("saySpendAtLeast", { minimum: money.format(minSpend) });
    }
    document.getElementById("budget-meter").textContent = text;
    var fill = document.getElementById("budget-meter-fill");
    fill.style.width = Math.min(100, budget ? (100 * spent / budget) : 0) + "%";
    document.getElementById("budget-meter-box").classList.toggle("over", left < 0);
  }

  function updateApproval() {
    var counter = document.getElementById("choice-counter");
    if (!counter || !maxChoices) { return; }
    var n = checkedBoxes().length;
    counter.textContent = say(n > maxChoices ? "sayTooManyChoices" : "sayChoices",
                              { n: number.format(n), k: number.format(maxChoices) });
  }

  function updatePoints() {
    var used = 0;
    form.querySelectorAll("input[type=number]").forEach(function (input) {
      used += parseInt(input.value, 10) || 0;
    });
    var left = points - used;
    var shown = { used: number.format(used), points: number.format(points) };
    if (left >= 0) { shown.left = number.format(left); } else { shown.over = number.format(-left); }
    document.getElementById("points-counter").textContent =
      say(left >= 0 ? "sayPoints" : "sayTooManyPoints", shown);
  }

  // Ranked: a choice given to two projects is said at once (live region) and both selects
  // are marked, each naming the clash in its own message.
  function updateRanks() {
    var counter = document.getElementById("rank-counter");
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[name^='rank_']"));
    var holders = {};
    selects.forEach(function (select) {
      if (select.value) { (holders[select.value] = holders[select.value] || []).push(select); }
    });
    var clashes = [];
    selects.forEach(function (select) {
      var message = document.getElementById(select.id + "-error");
      var clash = select.value && holders[select.value].length > 1;
      if (message) {
        message.hidden = !clash;
        message.textContent = clash ? say("sayRankConflict", { n: number.format(parseInt(select.value, 10)) }) : "";
      }
      if (clash) {
        select.setAttribute("aria-invalid", "true");
        if (message) { select.setAttribute("aria-describedby", message.id); }
      } else {
        select.removeAttribute("aria-invalid");
        select.removeAttribute("aria-describedby");
      }
    });
    Object.keys(holders).sort().forEach(function (rank) {
      if (holders[rank].length > 1) {
        var names = holders[rank].map(function (select) {
          var label = form.querySelector("label[for='" + select.id + "'] strong");
          return label ? label.textContent : select.id;
        });
        clashes.push(say("sayRankTwice", { n: number.format(parseInt(rank, 10)), projects: names.join(", ") }));
      }
    });
    if (counter) {
      var text = clashes.length ? clashes.join(" ") : (Object.keys(holders).length ? form.dataset.sayRanksFine : "");
      if (counter.textContent !== text) { counter.textContent = text; }
      counter.classList.toggle("over", clashes.length > 0);
    }
  }

  var update = { knapsack: updateKnapsack, approval: updateApproval, cumulative: updatePoints,
                 ranked: updateRanks }[kind];
  if (update) {
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
