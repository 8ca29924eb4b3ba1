import { CARD_SCRIPT } from "./scriptCard";

/**
 * The console's browser script, served inline and allowed by its hash in the
 * Content-Security-Policy. Status first: one compact row per group, sorted by how urgently it
 * needs an operator (the overview's severity), with counts per severity in the header, a filter
 * and "problems only". Opening a row shows the group's card (scriptCard.ts) with its timeline
 * and switch plan. Each refresh makes one GET groups, whatever the number of groups, plus a
 * GET history and a GET plan for each open row; it writes only when the operator confirms an
 * action. The function key, when the page was opened with ?code=, is sent as x-functions-key.
 * `?open=a,b` opens rows, `?problems=1` shows problems only, `?refresh=` sets the period (s).
 */
export const CONSOLE_SCRIPT = String.raw`
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var key = params.get("code");
  var refreshMs = Math.max(500, Number(params.get("refresh") || "5") * 1000);
  var lastGood = null;
  var busy = false;
  var timer = null;
  var opened = {};
  (params.get("open") || "").split(",").filter(Boolean).forEach(function (g) { opened[g] = true; });
  var filterText = "";
  var problemsOnly = params.get("problems") === "1";
  var results = {};
  // What the caller may do, as GET groups reports it (see rightsOf in the core).
  var rights = null;

  // Severities in the order the core defines them, most urgent first, with their label and colour.
  var SEVERITY = {
    unreadable: ["UNREADABLE", "bad"], not_watched: ["NOT WATCHED", "bad"], both_down: ["BOTH DOWN", "bad"], active_down: ["ACTIVE DOWN", "bad"],
    no_quorum: ["NO QUORUM", "bad"], switch_problem: ["SWITCH PROBLEM", "bad"], drift: ["DRIFT", "warn"], paused_active_down: ["PAUSED, DOWN", "warn"], standby_down: ["STANDBY DOWN", "warn"],
    on_secondary: ["ON SECONDARY", "info"], ok: ["OK", "ok"]
  };
  var ORDER = Object.keys(SEVERITY);
  function severityClass(s) { return (SEVERITY[s] || ["?", "bad"])[1]; }
  function severityLabel(s) { return (SEVERITY[s] || [s])[0]; }
${CARD_SCRIPT}

  function healthText(ep) {
    if (!ep) return "-";
    var state = ep.healthy === true ? "up" : ep.healthy === false ? "DOWN" : "not checked";
    return state + (ep.streak && ep.streak.threshold ? " " + ep.streak.count + "/" + ep.streak.threshold : "");
  }

  // One compact row: what an on-call engineer reads first.
  function row(g, now) {
    var cls = severityClass(g.severity);
    var tr = h("tr", { class: "group sev-" + cls + (opened[g.group] ? " open" : ""), "data-group": g.group, "data-severity": g.severity, tabindex: "0", title: g.severity_reason });
    var active = (g.endpoints || []).filter(function (e) { return e.active; })[0];
    var standby = (g.endpoints || []).filter(function (e) { return !e.active; })[0];
    var traffic = g.traffic ? (g.traffic.state === "verified" ? "verified at " + g.traffic.target : g.traffic.state === "row_only" ? "row only (no plan)" : g.traffic.state.replace("_", " ") + (g.traffic.target ? " to " + g.traffic.target : "")) : "-";
    [
      h("td", null, h("span", { class: "badge " + cls, "data-field": "severity", text: severityLabel(g.severity) })),
      h("td", { class: "name", text: g.group }),
      h("td", { "data-field": "where", text: g.error ? g.error.code : (g.active_target || "?").toUpperCase() + " · " + traffic }),
      h("td", { class: active && active.healthy === false ? "unhealthy" : "", "data-field": "active-health", text: healthText(active) }),
      h("td", { class: standby && standby.healthy === false ? "unhealthy" : "", "data-field": "standby-health", text: healthText(standby) }),
      h("td", { text: g.last_failover ? since(g.last_failover.at, now) + (g.last_failover.forced ? " (forced)" : "") : "-" }),
      h("td", { text: g.cooldown ? duration(g.cooldown.remaining_seconds) : "-" }),
      h("td", { text: g.pause ? "paused" + (g.pause.until ? " " + until(g.pause.until, now) : "") : "-" }),
      h("td", { class: g.loop.stale ? "unhealthy" : "", text: g.loop.runtime_status + (g.loop.last_cycle_age_seconds !== undefined ? " " + duration(g.loop.last_cycle_age_seconds) : "") }),
      h("td", { class: "reason", text: g.severity === "ok" ? "" : g.severity_reason })
    ].forEach(function (td) { tr.appendChild(td); });
    function toggle() {
      if (opened[g.group]) delete opened[g.group];
      else opened[g.group] = true;
      if (lastGood) render(lastGood.data, lastGood.details, null);
      refresh();
    }
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter") toggle(); });
    return tr;
  }

  function visible(groups) {
    return groups.filter(function (g) {
      if (problemsOnly && (g.severity === "ok" || g.severity === "on_secondary")) return false;
      return filterText === "" || g.group.toLowerCase().indexOf(filterText) >= 0;
    }).sort(function (a, b) { return ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity) || (a.group < b.group ? -1 : 1); });
  }

  function summary(groups) {
    var counts = {};
    groups.forEach(function (g) { counts[g.severity] = (counts[g.severity] || 0) + 1; });
    var parts = ORDER.filter(function (s) { return counts[s]; }).map(function (s) { return counts[s] + " " + severityLabel(s); });
    return groups.length + " groups" + (parts.length ? " · " + parts.join(" · ") : "");
  }

  function refusedText(action, status, b) {
    if (status === 401) return action + " refused (HTTP 401): this key may only read; acting needs a key of the operate functions";
    if (status === 403) return action + " refused (HTTP 403): not allowed to operate: " + (b.message || b.error || "forbidden");
    return action + " failed: " + (b.message || b.error || status);
  }

  function confirmAction(g, action, from, warning) {
    var dialog = document.getElementById("confirm");
    var title = document.getElementById("confirm-title");
    var warn = document.getElementById("confirm-warning");
    var expiry = document.getElementById("confirm-expiry-row");
    var force = document.getElementById("confirm-force-row");
    var reason = document.getElementById("confirm-reason");
    var ok = document.getElementById("confirm-ok");
    var what = action === "pause" ? "Pause automatic switching of group \"" + g.group + "\""
      : action === "resume" ? "Resume automatic switching of group \"" + g.group + "\""
      : action === "retry_switch" ? "Apply the held switch of group \"" + g.group + "\" again (its cause fixed)"
      : action === "drill" ? "Drill group \"" + g.group + "\": switch to " + other(g.active_target) + " through its plan, then back once verified (the recovery time is measured)"
      : action === "drill_dry" ? "Dry-run a drill of group \"" + g.group + "\": readiness and a read-back of every step, nothing written"
      : action === "approve" ? "Approve the " + g.proposal.kind + " of group \"" + g.group + "\" from " + g.proposal.from + " to " + other(g.proposal.from) + " (the loop makes it at once)"
      : action === "reject" ? "Reject the " + g.proposal.kind + " of group \"" + g.group + "\" (no automatic switch until the condition clears)"
      : (action === "failback" ? "Fail back" : "Fail over") + " group \"" + g.group + "\" from " + from + " to " + other(from);
    title.textContent = what + "?";
    warn.textContent = warning || "";
    warn.style.display = warning ? "" : "none";
    ok.textContent = action === "pause" ? "Pause " + g.group : action === "resume" ? "Resume " + g.group : action === "retry_switch" ? "Retry " + g.group
      : action === "drill" ? "Drill " + g.group : action === "drill_dry" ? "Dry-run " + g.group
      : action === "approve" ? "Approve " + g.proposal.kind : action === "reject" ? "Reject " + g.proposal.kind : "Switch " + g.group + " to " + other(from);
    expiry.style.display = action === "pause" ? "" : "none";
    force.style.display = action === "do_failover" || action === "failback" ? "" : "none";
    reason.value = "";
    document.getElementById("confirm-force").checked = false;
    document.getElementById("confirm-minutes").value = "60";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      var body = { reason: reason.value.trim() };
      if (action === "pause") {
        var minutes = Number(document.getElementById("confirm-minutes").value);
        if (minutes > 0) body.until = new Date(Date.now() + minutes * 60000).toISOString();
      }
      if (action === "do_failover") body.expected_from = from;
      if (action === "approve" || action === "reject") body.proposal_id = g.proposal.id;
      if ((action === "do_failover" || action === "failback") && document.getElementById("confirm-force").checked) body.force = true;
      if (action === "drill_dry") body.dry_run = true;
      api("POST", (action === "drill_dry" ? "drill" : action) + "?group=" + encodeURIComponent(g.group), body).then(function (res) {
        var b = res.body || {};
        results[g.group] = res.status >= 400 ? { kind: "failed", text: refusedText(action, res.status, b) }
          : b.changed === false ? { kind: "refused", text: action + " refused: " + (b.reason || "nothing to change") }
          : b.report ? { kind: b.report.result === "passed" ? "done" : "refused", text: "dry run " + b.report.result + " in " + b.report.recovery_seconds + " s, no write" + (b.report.problems ? ": " + b.report.problems.join("; ") : "") }
          : b.mode === "switchover" ? { kind: "done", text: "drill " + b.drill_id + " started: the loop switches to " + b.active_target + ", then back" }
          : { kind: "done", text: action + " done" + (b.proposal ? ": the " + b.proposal.kind + " is " + b.proposal.state : b.active_target ? ": active " + b.active_target : "") + (b.forced ? " (break-glass)" : "") };
        refresh();
      }, function (err) { results[g.group] = { kind: "failed", text: action + " failed: " + err.message }; refresh(); });
    };
    dialog.returnValue = "";
    dialog.showModal();
    reason.focus();
  }

  function render(data, details, failure) {
    var now = data ? Date.parse(data.now) : Date.now();
    var banner = document.getElementById("banner");
    banner.textContent = failure ? failure + (lastGood ? " · showing what was read at " + clock(lastGood.data.now) + " (" + since(lastGood.data.now, Date.now()) + ")" : " · nothing read yet") : "";
    banner.className = failure ? "show" : "";
    if (!data) return;
    var body = document.getElementById("rows");
    body.replaceChildren();
    var shown = visible(data.groups);
    if (data.groups.length === 0) body.appendChild(h("tr", null, h("td", { colspan: "10", class: "empty", text: "No failover groups yet: create one with POST /api/init or the CLI (failover init)." })));
    shown.forEach(function (g) {
      var tr = row(g, now);
      if (failure) tr.classList.add("dim");
      body.appendChild(tr);
      if (!opened[g.group]) return;
      var d = details[g.group] || {};
      var el = card(g, d.history, now, results, d.plan);
      if (failure) el.classList.add("dim");
      body.appendChild(h("tr", { class: "detail" }, h("td", { colspan: "10" }, el)));
    });
    document.getElementById("summary").textContent = summary(data.groups);
    document.getElementById("shown").textContent = shown.length === data.groups.length ? "" : "showing " + shown.length + " of " + data.groups.length;
    document.getElementById("refreshed").textContent = (failure ? "last good read " : "read ") + clock(data.now) + " · every " + refreshMs / 1000 + " s";
  }

  // GET groups once; for each open row, its history and plan. A refresh asked for during one follows it.
  var again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    again = false;
    api("GET", "groups").then(function (res) {
      if (res.status !== 200) throw new Error((res.body && res.body.error ? res.body.error + ": " + (res.body.message || "") : "HTTP " + res.status));
      var data = res.body;
      rights = data.caller || null;
      var open = data.groups.filter(function (g) { return opened[g.group] && !g.error; });
      return Promise.all(open.map(function (g) {
        var q = "?group=" + encodeURIComponent(g.group);
        return Promise.all([
          api("GET", "history" + q + "&limit=8").then(function (r) { return r.status === 200 ? r.body.entries : null; }, function () { return null; }),
          api("GET", "plan" + q).then(function (r) { return r.status === 200 ? r.body : null; }, function () { return null; })
        ]).then(function (both) { return [g.group, { history: both[0], plan: both[1] }]; });
      })).then(function (pairs) {
        var details = {};
        pairs.forEach(function (p) { details[p[0]] = p[1]; });
        lastGood = { data: data, details: details };
        render(data, details, null);
      });
    }).catch(function (err) {
      render(lastGood ? lastGood.data : null, lastGood ? lastGood.details : {}, "CANNOT READ STATE: " + err.message);
    }).then(function () {
      busy = false;
      document.body.setAttribute("data-refreshes", String(Number(document.body.getAttribute("data-refreshes") || "0") + 1));
      clearTimeout(timer);
      timer = setTimeout(refresh, again ? 0 : refreshMs);
    });
  }

  var filter = document.getElementById("filter");
  filter.addEventListener("input", function () { filterText = filter.value.trim().toLowerCase(); if (lastGood) render(lastGood.data, lastGood.details, null); });
  var problems = document.getElementById("problems");
  problems.checked = problemsOnly;
  problems.addEventListener("change", function () { problemsOnly = problems.checked; if (lastGood) render(lastGood.data, lastGood.details, null); });
  refresh();
})();
`;
