/**
 * The console's browser script, served inline and allowed by its hash in the
 * Content-Security-Policy. It reads GET groups and GET history (relative to /api/) on a timer
 * and writes only when the operator confirms an action. The function key, when the page was
 * opened with ?code=, is sent as the x-functions-key header. Text from the API is always set
 * with textContent, never parsed as HTML.
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

  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") el.textContent = attrs[name];
      else if (name === "class") el.className = attrs[name];
      else if (attrs[name] !== undefined && attrs[name] !== null) el.setAttribute(name, attrs[name]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function api(method, path, body) {
    var headers = { accept: "application/json" };
    if (key) headers["x-functions-key"] = key;
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: "bad_answer", message: text.slice(0, 200) }; }
        return { status: res.status, body: data };
      });
    });
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 90) return seconds + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return Math.round(seconds / 86400) + " d";
  }
  function clock(iso) { return iso ? new Date(iso).toISOString().slice(11, 19) + "Z" : "-"; }
  function since(iso, now) { return duration((now - Date.parse(iso)) / 1000) + " ago"; }
  function until(iso, now) { return "in " + duration((Date.parse(iso) - now) / 1000); }
  function other(target) { return target === "primary" ? "secondary" : "primary"; }

  function healthCell(ep) {
    if (ep.healthy === true) return h("td", { class: "healthy", text: "healthy" });
    if (ep.healthy === false) return h("td", { class: "unhealthy", text: "UNHEALTHY" });
    return h("td", { class: "unknown", text: "not checked" });
  }
  function streakText(s) {
    if (!s) return "-";
    if (s.kind === "recovery" && !s.threshold) return s.count + " healthy (failback is manual)";
    var label = s.kind === "failures" ? "failed" : s.kind === "recovery" ? "healthy toward failback" : "healthy";
    return s.count + (s.threshold ? " / " + s.threshold : "") + " " + label;
  }

  function endpointTable(g) {
    var rows = g.endpoints.map(function (ep) {
      return h("tr", { "data-target": ep.target },
        h("td", null, h("strong", { text: ep.target }), " ", ep.active ? h("span", { class: "pill info", text: "ACTIVE" }) : null, h("div", { class: "url", text: ep.url })),
        healthCell(ep),
        h("td", { text: ep.status_code !== undefined ? String(ep.status_code) : "-" }),
        h("td", { text: ep.latency_ms !== undefined ? ep.latency_ms + " ms" : "-" }),
        h("td", { text: streakText(ep.streak) }));
    });
    var head = h("tr", null, h("th", { text: "endpoint" }), h("th", { text: "health" }), h("th", { text: "status" }), h("th", { text: "latency" }), h("th", { text: "streak / threshold" }));
    return h("table", { class: "endpoints" }, h("thead", null, head), h.apply(null, ["tbody", null].concat(rows)));
  }

  function loopLine(g, now) {
    var l = g.loop;
    var parts = ["loop " + l.runtime_status];
    if (l.last_cycle_utc) parts.push("last cycle " + since(l.last_cycle_utc, now));
    else parts.push("no cycle yet");
    if (l.next_check_utc) parts.push("next check " + (Date.parse(l.next_check_utc) > now ? until(l.next_check_utc, now) : "due"));
    if (l.stale) parts.push("STALE (no cycle for over " + l.stale_after_seconds + " s)");
    if (l.error) parts.push(l.error);
    return h("div", { class: "loop" + (l.stale ? " stale" : "") }, parts.join(" · "));
  }

  function notifiedText(e) {
    var attempts = e.notification_attempts ? " (" + e.notification_attempts + (e.notification_attempts === 1 ? " attempt)" : " attempts)") : "";
    if (e.notified_utc) return "notified " + clock(e.notified_utc) + " (" + duration((Date.parse(e.notified_utc) - Date.parse(e.at)) / 1000) + " after)" + attempts;
    if (e.notification_status === "delivered") return "notified (delivery time not recorded)" + attempts;
    if (e.notification_status === "failed") return "notification FAILED" + attempts + (e.notification_error ? ": " + e.notification_error : "");
    if (e.notification_status === "pending") return "notification pending" + (e.notification_next_utc ? " (next attempt " + clock(e.notification_next_utc) + ")" : "") + attempts;
    if (e.notification_status === "expired") return "notification EXPIRED undelivered" + attempts + (e.notification_error ? ": " + e.notification_error : "");
    if (e.notification_status === "not_configured") return "no notification configured";
    return "notification " + (e.notification_status || "unknown");
  }

  // The traffic line: the overview's summary, coloured by state; the evidence is part of the summary.
  function trafficLine(g) {
    var t = g.traffic;
    if (!t) return null;
    var cls = t.state === "verified" ? "ok" : t.state === "failed" || stopped(t) ? "bad" : t.state === "row_only" || t.state === "not_run" ? "muted" : "warn";
    return h("div", { class: "traffic " + cls, "data-field": "traffic", "data-state": t.state }, h("strong", { text: "Traffic: " }), t.summary);
  }

  // A switch a permanent error stopped: a human must act (held, being undone, or undone).
  function stopped(t) {
    return t && (t.state === "held" || t.state === "compensating" || t.state === "compensated");
  }

  // Drift and readiness, when the overview carries them (see the core's overview).
  function driftFlag(g) {
    return g.drift ? h("span", { class: "flag error", "data-field": "drift", text: g.drift.summary }) : null;
  }
  function readinessFlag(g) {
    var r = g.readiness;
    return r ? h("span", { class: "flag " + (r.ready ? "ready" : "error"), "data-field": "readiness", text: r.summary }) : null;
  }

  function timeline(g, entries, now) {
    if (!entries) return h("div", { class: "meta", text: "history unavailable" });
    if (entries.length === 0) return h("div", { class: "meta", text: "no transitions yet" });
    var ordered = entries.slice().reverse();
    var items = ordered.map(function (e, i) {
      var prev = i > 0 ? ordered[i - 1] : null;
      var title = h("span", null, h("span", { class: "when", text: clock(e.at) }), " ",
        h("strong", { text: e.kind.replace("_", " ").toUpperCase() }), " ",
        e.kind === "pause" || e.kind === "resume" ? "" : e.from + " → " + e.to, " ",
        e.forced ? h("span", { class: "breakglass", text: "BREAK-GLASS" }) : null,
        " by " + e.actor + (prev ? " · " + duration((Date.parse(e.at) - Date.parse(prev.at)) / 1000) + " after the previous entry" : ""));
      var steps = [];
      if ((e.kind === "failover" || e.kind === "failback") && e.actor === "orchestrator") {
        if (e.unhealthy_since_utc) steps.push("first failed check " + clock(e.unhealthy_since_utc) + " → threshold reached, switched " + clock(e.at) + " (" + duration((Date.parse(e.at) - Date.parse(e.unhealthy_since_utc)) / 1000) + ")");
        else if (e.kind === "failover") steps.push("threshold reached, switched " + clock(e.at) + " (first failed check not recorded on this entry)");
        else steps.push("recovery threshold reached, switched " + clock(e.at));
      }
      if (e.probe) steps.push("standby probe " + (e.probe.status_code !== undefined ? e.probe.status_code : e.probe.error_class || "error") + " in " + e.probe.latency_ms + " ms");
      steps.push(notifiedText(e));
      // A switch's writes to the world (its ledger): what changed where, and how each went.
      var writes = (e.writes || []).map(function (w) {
        return h("li", { "data-field": "write" }, clock(w.at) + " " + w.method + " " + w.resource + " " + w.change + " → " + w.result + " (" + w.ms + " ms)");
      });
      var ledger = writes.length ? h.apply(null, ["ul", { class: "writes" }].concat(writes)) : null;
      return h("li", { class: e.kind }, title, h("div", { class: "steps", text: e.reason + " · " + steps.join(" → ") }), ledger);
    });
    return h.apply(null, ["ol", { class: "timeline" }].concat(items));
  }

  function actionButton(label, cls, disabled, onClick) {
    var b = h("button", { type: "button", class: cls, text: label });
    if (disabled) b.disabled = true;
    else b.addEventListener("click", onClick);
    return b;
  }

  function card(g, entries, now, previous) {
    var el = h("section", { class: "card", "data-group": g.group });
    if (g.error) {
      el.className = "card alarm";
      el.appendChild(h("div", { class: "top" }, h("h2", { text: g.group }), h("span", { class: "pill bad", text: g.error.code })));
      el.appendChild(h("div", { class: "flag error", text: g.error.message }));
      el.appendChild(loopLine(g, now));
      return el;
    }
    if (g.loop.stale || g.last_status === "CHECK_ERROR" || g.last_status === "FAILOVER_BLOCKED" || stopped(g.traffic)) el.className = "card alarm";
    else if (g.active_target === "secondary") el.className = "card failed-over";
    var statusClass = g.last_status === "OK" || /_DONE$/.test(g.last_status) ? "ok" : g.last_status === "UNHEALTHY" ? "warn" : "bad";
    el.appendChild(h("div", { class: "top" },
      h("h2", { text: g.group }),
      h("span", { class: "active " + g.active_target, "data-field": "active", text: "ACTIVE: " + g.active_target.toUpperCase() }),
      h("span", { class: "pill " + statusClass, "data-field": "last-status", text: g.last_status }),
      h("span", { class: "meta", text: g.failover_count + " switches · failback " + g.failback_mode })));
    var flags = h("div", { class: "flags" });
    if (g.pause) flags.appendChild(h("span", { class: "flag paused", "data-field": "pause", text: "PAUSED" + (g.pause.by ? " by " + g.pause.by : "") + (g.pause.reason ? ": " + g.pause.reason : "") + (g.pause.until ? " · until " + clock(g.pause.until) + " (" + until(g.pause.until, now) + ")" : " · no expiry") }));
    if (g.cooldown) flags.appendChild(h("span", { class: "flag cooldown", "data-field": "cooldown", text: "COOLDOWN " + duration(g.cooldown.remaining_seconds) + " left (until " + clock(g.cooldown.until) + ")" }));
    if (g.loop.stale) flags.appendChild(h("span", { class: "flag stale", "data-field": "stale", text: "LOOP STALE" }));
    var drift = driftFlag(g), ready = readinessFlag(g);
    if (drift) flags.appendChild(drift);
    if (ready) flags.appendChild(ready);
    if (g.last_failover && g.last_failover.forced) flags.appendChild(h("span", { class: "flag error", text: "last switch was BREAK-GLASS (" + since(g.last_failover.at, now) + ")" }));
    if (flags.childNodes.length) el.appendChild(flags);
    var traffic = trafficLine(g);
    if (traffic) el.appendChild(traffic);
    el.appendChild(endpointTable(g));
    el.appendChild(loopLine(g, now));
    el.appendChild(h("h3", { text: "Incident timeline" }));
    el.appendChild(timeline(g, entries, now));
    var from = g.active_target;
    var readOnly = rights && rights.can_operate === false;
    var actions = h("div", { class: "actions" },
      g.pause ? actionButton("Resume", "", readOnly, function () { confirmAction(g, "resume", null); }) : actionButton("Pause…", "", readOnly, function () { confirmAction(g, "pause", null); }),
      from === "primary"
        ? actionButton("Fail over primary → secondary…", "danger", readOnly, function () { confirmAction(g, "do_failover", "primary"); })
        : actionButton("Fail back secondary → primary…", "danger", readOnly, function () { confirmAction(g, "failback", "secondary"); }));
    if (stopped(g.traffic)) actions.appendChild(actionButton("Retry switch…", "danger", readOnly, function () { confirmAction(g, "retry_switch", null); }));
    if (readOnly) actions.appendChild(h("span", { class: "readonly", "data-field": "read-only", text: "Read only: " + rights.reason }));
    el.appendChild(actions);
    if (previous && previous[g.group]) el.appendChild(h("div", { class: "result " + previous[g.group].kind, "data-field": "result", text: previous[g.group].text }));
    return el;
  }

  var results = {};
  // What the caller may do, as GET groups reports it (see rightsOf in the core).
  var rights = null;

  function refusedText(action, status, b) {
    if (status === 401) return action + " refused (HTTP 401): this key may only read; acting needs a key of the operate functions";
    if (status === 403) return action + " refused (HTTP 403): not allowed to operate: " + (b.message || b.error || "forbidden");
    return action + " failed: " + (b.message || b.error || status);
  }

  function confirmAction(g, action, from) {
    var dialog = document.getElementById("confirm");
    var title = document.getElementById("confirm-title");
    var expiry = document.getElementById("confirm-expiry-row");
    var force = document.getElementById("confirm-force-row");
    var reason = document.getElementById("confirm-reason");
    var ok = document.getElementById("confirm-ok");
    var what = action === "pause" ? "Pause automatic switching of group \"" + g.group + "\""
      : action === "resume" ? "Resume automatic switching of group \"" + g.group + "\""
      : action === "retry_switch" ? "Apply the held switch of group \"" + g.group + "\" again (its cause fixed)"
      : (action === "failback" ? "Fail back" : "Fail over") + " group \"" + g.group + "\" from " + from + " to " + other(from);
    title.textContent = what + "?";
    ok.textContent = action === "pause" ? "Pause " + g.group : action === "resume" ? "Resume " + g.group : action === "retry_switch" ? "Retry " + g.group : "Switch " + g.group + " to " + other(from);
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
      if ((action === "do_failover" || action === "failback") && document.getElementById("confirm-force").checked) body.force = true;
      api("POST", action + "?group=" + encodeURIComponent(g.group), body).then(function (res) {
        var b = res.body || {};
        results[g.group] = res.status >= 400 ? { kind: "failed", text: refusedText(action, res.status, b) }
          : b.changed === false ? { kind: "refused", text: action + " refused: " + (b.reason || "nothing to change") }
          : { kind: "done", text: action + " done" + (b.active_target ? ": active " + b.active_target : "") + (b.forced ? " (break-glass)" : "") };
        refresh();
      }, function (err) { results[g.group] = { kind: "failed", text: action + " failed: " + err.message }; refresh(); });
    };
    dialog.returnValue = "";
    dialog.showModal();
    reason.focus();
  }

  function render(data, histories, failure) {
    var now = data ? Date.parse(data.now) : Date.now();
    var banner = document.getElementById("banner");
    if (failure) {
      banner.textContent = failure + (lastGood ? " · showing what was read at " + clock(lastGood.data.now) + " (" + since(lastGood.data.now, Date.now()) + ")" : " · nothing read yet");
      banner.className = "show";
    } else {
      banner.className = "";
      banner.textContent = "";
    }
    if (!data) return;
    var main = document.getElementById("groups");
    main.replaceChildren();
    if (data.groups.length === 0) main.appendChild(h("div", { class: "empty", text: "No failover groups yet: create one with POST /api/init or the CLI (failover init)." }));
    data.groups.forEach(function (g, i) {
      var el = card(g, histories[i], now, results);
      if (failure) el.classList.add("dim");
      main.appendChild(el);
    });
    var failedOver = data.groups.filter(function (g) { return g.active_target === "secondary"; }).length;
    var alarms = data.groups.filter(function (g) { return g.error || g.loop.stale; }).length;
    document.getElementById("summary").textContent = data.groups.length + " groups · " + failedOver + " on secondary" + (alarms ? " · " + alarms + " need attention" : "");
    document.getElementById("refreshed").textContent = (failure ? "last good read " : "read ") + clock(data.now) + " · every " + refreshMs / 1000 + " s";
  }

  function refresh() {
    if (busy) return;
    busy = true;
    api("GET", "groups").then(function (res) {
      if (res.status !== 200) throw new Error((res.body && res.body.error ? res.body.error + ": " + (res.body.message || "") : "HTTP " + res.status));
      var data = res.body;
      rights = data.caller || null;
      return Promise.all(data.groups.map(function (g) {
        return api("GET", "history?limit=8&group=" + encodeURIComponent(g.group)).then(function (r) { return r.status === 200 ? r.body.entries : null; }, function () { return null; });
      })).then(function (histories) {
        lastGood = { data: data, histories: histories };
        render(data, histories, null);
      });
    }).catch(function (err) {
      render(lastGood ? lastGood.data : null, lastGood ? lastGood.histories : [], "CANNOT READ STATE: " + err.message);
    }).then(function () {
      busy = false;
      document.body.setAttribute("data-refreshes", String(Number(document.body.getAttribute("data-refreshes") || "0") + 1));
      clearTimeout(timer);
      timer = setTimeout(refresh, refreshMs);
    });
  }

  refresh();
})();
`;
