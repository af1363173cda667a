// tasker-core dashboard: confirmations for actions, and live pages (no dependencies).
(function () {
  "use strict";

  var body = document.body;
  // The task states that never move again: the page says which (TaskerCore::States::TASK_FINISHED).
  var FINISHED = (body.getAttribute("data-finished") || "").split(" ");

  // Actions ask first: <form data-confirm="question">.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // True while the operator is typing in a form: the page must not reload under them.
  function editing() {
    var fields = document.querySelectorAll("form textarea, form input:not([type=hidden])");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue || fields[i] === document.activeElement) {
        return true;
      }
    }
    return false;
  }

  function stateClass(state) {
    return "state-" + String(state).replace(/_/g, "-");
  }

  // The task page follows its task through the JSON API until the task finishes.
  var pollUrl = body.getAttribute("data-poll-url");
  var interval = parseInt(body.getAttribute("data-poll-interval"), 10) || 2000;
  var taskState = body.getAttribute("data-task-state");

  function nodes() {
    var found = {};
    var list = document.querySelectorAll("svg.dag g.node[data-step]");
    for (var i = 0; i < list.length; i++) {
      found[list[i].getAttribute("data-step")] = list[i];
    }
    return found;
  }

  function changed(task) {
    if (task.state !== taskState) {
      return true;
    }
    var drawn = nodes();
    return (task.steps || []).some(function (step) {
      var node = drawn[step.name];
      return !node || node.getAttribute("data-state") !== step.state ||
        node.getAttribute("data-attempts") !== String(step.attempts);
    }) || (task.instance_groups || []).some(groupChanged);
  }

  // A fan_out's instances summarized in one row: changed when any count per state did.
  function groupChanged(group) {
    var rows = document.querySelectorAll("tr[data-group]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-group") === group.template) {
        var shown = JSON.parse(rows[i].getAttribute("data-counts") || "{}");
        var states = Object.keys(shown).concat(Object.keys(group.counts || {}));
        return states.some(function (state) {
          return (shown[state] || 0) !== ((group.counts || {})[state] || 0);
        });
      }
    }
    return true;
  }

  // Without reloading (the operator is editing): recolour the graph and say it changed.
  function updateInPlace(task) {
    var drawn = nodes();
    (task.steps || []).forEach(function (step) {
      var node = drawn[step.name];
      if (!node) {
        return;
      }
      node.setAttribute("class", "node " + stateClass(step.state));
      node.setAttribute("data-state", step.state);
      node.setAttribute("data-attempts", String(step.attempts));
      var label = node.querySelector("text.state");
      if (label) {
        label.textContent = (step.state === "error" ? "\u2715 " : "") + step.state.replace(/_/g, " ") +
          (step.attempts > 0 ? " \u00b7 " + step.attempts + "/" + step.max_attempts : "");
      }
    });
    taskState = task.state;
    var banner = document.getElementById("live");
    if (banner) {
      banner.hidden = false;
    }
  }

  function schedule() {
    if (FINISHED.indexOf(taskState) === -1) {
      window.setTimeout(poll, interval);
    }
  }

  function poll() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (task) {
        if (task && changed(task)) {
          if (!editing()) {
            window.location.reload();
            return;
          }
          updateInPlace(task);
        }
        schedule();
      })
      .catch(schedule);
  }

  if (pollUrl) {
    schedule();
  }

  var reload = document.getElementById("reload");
  if (reload) {
    reload.addEventListener("click", function () { window.location.reload(); });
  }

  // The overview refreshes itself (data-refresh = milliseconds).
  var refresh = parseInt(body.getAttribute("data-refresh"), 10);
  if (refresh > 0) {
    window.setInterval(function () {
      if (!document.hidden && !editing()) {
        window.location.reload();
      }
    }, refresh);
  }
})();
