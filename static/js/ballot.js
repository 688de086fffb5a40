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

  var update = { knapsack: updateKnapsack, approval: updateApproval, cumulative: updatePoints }[kind];
  if (update) {
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
