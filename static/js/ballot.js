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
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: form.dataset.currency || "USD", maximumFractionDigits: 0 });

  function checkedBoxes() { return form.querySelectorAll("input[name=project]:checked"); }

  function updateKnapsack() {
    var spent = 0;
    checkedBoxes().forEach(function (box) { spent += parseInt(box.dataset.cost, 10) || 0; });
    var left = budget - spent;
    var text = left >= 0
      ? "Chosen " + money.format(spent) + " of " + money.format(budget) + ". Remaining: " + money.format(left) + "."
      : "Over budget by " + money.format(-left) + ". Remove a project.";
    if (left >= 0 && spent < minSpend) {
      text += " Spend at least " + money.format(minSpend) + ".";
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
    counter.textContent = n > maxChoices
      ? "You chose " + n + " projects; you may choose at most " + maxChoices + "."
      : "Chosen " + n + " of up to " + maxChoices + ".";
  }

  function updatePoints() {
    var used = 0;
    form.querySelectorAll("input[type=number]").forEach(function (input) {
      used += parseInt(input.value, 10) || 0;
    });
    var left = points - used;
    document.getElementById("points-counter").textContent = left >= 0
      ? "Points used: " + used + " of " + points + ". Left: " + left + "."
      : "Too many points: " + used + " of " + points + ". Remove " + (-left) + ".";
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
