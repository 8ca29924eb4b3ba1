/**
 * The console's group card, as a fragment of its browser script (see script.ts): one group's
 * endpoints, traffic, flags, switch plan, incident timeline and actions, built from GET groups,
 * GET history and GET plan. Text from the API is always set with textContent.
 */
export const CARD_SCRIPT = String.raw`
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
    // The standby's cell says when a check last probed it (STANDBY_CHECK_EVERY).
    var checked = ep.checked_utc ? " (checked " + clock(ep.checked_utc) + ")" : "";
    var votes = votesLine(ep.votes);
    if (ep.healthy === true) return h("td", { class: "healthy" }, "healthy" + checked, votes);
    if (ep.healthy === false) return h("td", { class: "unhealthy" }, "UNHEALTHY" + checked, votes);
    return h("td", { class: "unknown" }, "not checked", votes);
  }
  // Each vantage's vote in the last check (with vantage agents): "controller up · westeurope DOWN (network) · eastus no vote".
  function votesLine(votes) {
    if (!votes || votes.length < 2) return null;
    var line = h("div", { class: "votes", "data-field": "votes" });
    votes.forEach(function (v, i) {
      var text = v.healthy === true ? v.vantage + " up" : v.healthy === false ? v.vantage + " DOWN (" + (v.error_class || "unhealthy") + ")" : v.vantage + " no vote (" + (v.error_class || "no answer") + ")";
      line.appendChild(h("span", { class: v.healthy === true ? "vote up" : v.healthy === false ? "vote down" : "vote none", title: v.error || (v.latency_ms + " ms"), text: (i > 0 ? " · " : "") + text }));
    });
    return line;
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

  // The last drill: its result, the recovery time against the plan's budget, when and by whom.
  function lastDrillLine(d, now) {
    var budget = d.budget_seconds !== undefined ? " of a " + d.budget_seconds + " s budget" : " (no budget in the plan)";
    var figures = d.mode === "dry_run" ? "dry run " + d.result + " in " + d.recovery_seconds + " s, no write"
      : d.result + " · recovery " + (d.recovery_seconds !== undefined ? d.recovery_seconds + " s" + budget : "-") + (d.switchback_seconds !== undefined ? " · switchback " + d.switchback_seconds + " s" : "") + " · " + d.writes + " writes";
    return h("div", { class: "meta drill-line " + d.result, "data-field": "last-drill", text: "Last drill: " + figures + " · " + clock(d.ended_utc) + " (" + since(d.ended_utc, now) + ") by " + d.actor });
  }

  // A switch the loop proposes instead of making it (decision_mode approval or notify_only).
  function proposalFlag(g, now) {
    var p = g.proposal;
    if (!p) return null;
    var move = p.kind.toUpperCase() + " " + p.from + " → " + other(p.from);
    var text = p.state === "pending" ? move + " PROPOSED: approve or reject" + (p.expires_utc ? " · until " + clock(p.expires_utc) + " (" + until(p.expires_utc, now) + ")" : "")
      : p.state === "approved" ? move + " APPROVED by " + (p.decided_by || "?") + ": the loop makes it"
      : p.state === "rejected" ? move + " REJECTED by " + (p.decided_by || "?") + ": none until the condition clears"
      : p.state === "expired" ? move + " PROPOSAL EXPIRED unanswered: none until the condition clears"
      : move + " RECOMMENDED (notify only): switch by hand if you agree";
    return h("span", { class: "flag proposal " + p.state, "data-field": "proposal", title: p.reason || "", text: text });
  }

  function timeline(g, entries, now) {
    if (!entries) return h("div", { class: "meta", text: "history unavailable" });
    if (entries.length === 0) return h("div", { class: "meta", text: "no transitions yet" });
    var ordered = entries.slice().reverse();
    var items = ordered.map(function (e, i) {
      var prev = i > 0 ? ordered[i - 1] : null;
      var title = h("span", null, h("span", { class: "when", text: clock(e.at) }), " ",
        h("strong", { text: e.kind.replace("_", " ").toUpperCase() }), " ",
        e.from === e.to ? "" : e.from + " → " + e.to, " ",
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

  // The group's switch plan: each step and its readiness (from GET plan, read when the row is opened).
  function planSection(p) {
    if (!p) return h("div", { class: "meta", "data-field": "plan", text: "switch plan unavailable" });
    if (!p.plan) return h("div", { class: "meta", "data-field": "plan", text: "no switch plan: a switch moves the row only, traffic does not move" });
    var steps = p.plan.steps.map(function (s, i) {
      var what = s.kind === "traffic_manager" ? s.primary.endpoint_name + " / " + s.secondary.endpoint_name
        : s.kind === "front_door" ? s.origin_group + ": " + s.primary_origin + " / " + s.secondary_origin
        : s.kind === "dns" ? s.record_type + " " + s.record_name + ": " + s.primary_value + " / " + s.secondary_value
        : s.kind === "app_configuration" ? s.key + ": " + s.primary_value + " / " + s.secondary_value
        : s.url || "";
      return h("li", { "data-field": "plan-step" }, "step " + i + " " + s.kind + " " + what);
    });
    var r = p.readiness;
    return h("div", { class: "plan", "data-field": "plan" },
      h("h3", { text: "Switch plan (" + (p.source === "SWITCH_PLAN" ? "from the SWITCH_PLAN setting" : "on the row") + ", on failure: " + (p.plan.on_failure || "hold") + ")" }),
      h.apply(null, ["ol", null].concat(steps)),
      r ? h("div", { class: "flag " + (r.ready ? "ready" : "error"), text: r.ready ? "READY" : "NOT READY: " + r.problems.join("; ") }) : null);
  }

  function card(g, entries, now, previous, plan) {
    var el = h("section", { class: "card", "data-group": g.group });
    if (g.error) {
      el.className = "card alarm";
      el.appendChild(h("div", { class: "top" }, h("h2", { text: g.group }), h("span", { class: "pill bad", text: g.error.code })));
      el.appendChild(h("div", { class: "flag error", text: g.error.message }));
      el.appendChild(loopLine(g, now));
      return el;
    }
    // The card's colour is the group's severity: never OK while something is wrong.
    el.className = "card sev-" + severityClass(g.severity);
    var statusClass = g.last_status === "OK" || /_DONE$/.test(g.last_status) ? "ok" : g.last_status === "UNHEALTHY" ? "warn" : "bad";
    el.appendChild(h("div", { class: "top" },
      h("h2", { text: g.group }),
      h("span", { class: "active " + g.active_target + " sev-" + severityClass(g.severity), "data-field": "active", title: g.severity_reason, text: "ACTIVE: " + g.active_target.toUpperCase() }),
      h("span", { class: "pill " + statusClass, "data-field": "last-status", text: g.last_status }),
      h("span", { class: "meta", text: g.failover_count + " switches · failback " + g.failback_mode })));
    var flags = h("div", { class: "flags" });
    if (g.drill) flags.appendChild(h("span", { class: "flag drill", "data-field": "drill", text: "DRILL " + g.drill.id + " running: " + (g.drill.phase === "over" ? "switching over" : "switching back") + (g.drill.started_utc ? " since " + clock(g.drill.started_utc) : "") }));
    var proposal = proposalFlag(g, now);
    if (proposal) flags.appendChild(proposal);
    if (g.hold) flags.appendChild(h("span", { class: "flag held", "data-field": "hold", text: "FAILBACK HELD by " + (g.hold.owner || "?") + (g.hold.reason ? ": " + g.hold.reason : "") + " · until " + clock(g.hold.until) + " (" + until(g.hold.until, now) + ")" }));
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
    if (g.last_drill) el.appendChild(lastDrillLine(g.last_drill, now));
    el.appendChild(loopLine(g, now));
    if (plan !== undefined) el.appendChild(planSection(plan));
    el.appendChild(h("h3", { text: "Incident timeline" }));
    el.appendChild(timeline(g, entries, now));
    var from = g.active_target;
    var readOnly = rights && rights.can_operate === false;
    var primary = g.endpoints.filter(function (e) { return e.target === "primary"; })[0];
    // Fail back is offered plainly only when the primary is healthy; otherwise the button says so.
    var failback = primary && primary.healthy === true
      ? actionButton("Fail back secondary → primary…", "danger", readOnly, function () { confirmAction(g, "failback", "secondary"); })
      : actionButton("Fail back anyway (primary " + (primary && primary.healthy === false ? "DOWN" : "not checked") + ")…", "danger", readOnly, function () { confirmAction(g, "failback", "secondary", "The primary is " + (primary && primary.healthy === false ? "DOWN" : "not checked yet") + ": failing back sends traffic to a side that may not serve it."); });
    var actions = h("div", { class: "actions" },
      g.pause ? actionButton("Resume", "", readOnly, function () { confirmAction(g, "resume", null); }) : actionButton("Pause…", "", readOnly, function () { confirmAction(g, "pause", null); }),
      from === "primary" ? actionButton("Fail over primary → secondary…", "danger", readOnly, function () { confirmAction(g, "do_failover", "primary"); }) : failback);
    var p = g.proposal;
    if (p && (p.state === "pending" || p.state === "rejected" || p.state === "expired")) actions.appendChild(actionButton("Approve " + p.kind + "…", "danger", readOnly, function () { confirmAction(g, "approve", null); }));
    if (p && (p.state === "pending" || p.state === "approved")) actions.appendChild(actionButton("Reject " + p.kind + "…", "", readOnly, function () { confirmAction(g, "reject", null); }));
    if (g.traffic && g.traffic.state !== "row_only" && !g.drill) {
      actions.appendChild(actionButton("Drill…", "", readOnly, function () { confirmAction(g, "drill", null); }));
      actions.appendChild(actionButton("Dry run…", "", readOnly, function () { confirmAction(g, "drill_dry", null); }));
    }
    if (stopped(g.traffic)) actions.appendChild(actionButton("Retry switch…", "danger", readOnly, function () { confirmAction(g, "retry_switch", null); }));
    if (readOnly) actions.appendChild(h("span", { class: "readonly", "data-field": "read-only", text: "Read only: " + rights.reason }));
    el.appendChild(actions);
    if (previous && previous[g.group]) el.appendChild(h("div", { class: "result " + previous[g.group].kind, "data-field": "result", text: previous[g.group].text }));
    return el;
  }
`;
