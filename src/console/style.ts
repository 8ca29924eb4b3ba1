/** The console's stylesheet, served inline and allowed by its hash in the Content-Security-Policy. */
export const CONSOLE_STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f8fa; color: #1f2328; }
header { min-width: 100%; display: flex; gap: 16px; align-items: baseline; padding: 12px 20px; background: #1f2328; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .summary { font-weight: 600; }
header .refreshed { margin-left: auto; color: #c9d1d9; font-size: 13px; }
#banner { display: none; padding: 10px 20px; font-weight: 600; color: #fff; background: var(--bad); }
#banner.show { display: block; }
main { padding: 0 20px 16px; }
.toolbar { display: flex; gap: 14px; align-items: center; padding: 8px 20px; font-size: 14px; }
.toolbar input[type=search] { font: inherit; padding: 3px 6px; width: 220px; }
table.groups { background: #fff; border: 1px solid var(--line); font-size: 13px; margin: 0; table-layout: fixed; }
table.groups th:nth-child(1) { width: 142px; } table.groups th:nth-child(2) { width: 128px; } table.groups th:nth-child(3) { width: 230px; }
table.groups th:nth-child(4), table.groups th:nth-child(5) { width: 92px; } table.groups th:nth-child(6) { width: 90px; }
table.groups th:nth-child(7), table.groups th:nth-child(8) { width: 76px; } table.groups th:nth-child(9) { width: 110px; }
table.groups tr.group > td { padding: 3px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.groups td.reason { color: var(--muted); }
tr.group { cursor: pointer; border-left: 6px solid var(--ok); }
tr.group:hover, tr.group.open { background: #f6f8fa; }
tr.group.sev-bad { border-left-color: var(--bad); background: #fff5f5; }
tr.group.sev-warn { border-left-color: var(--warn); background: #fffbeb; }
tr.group.sev-info { border-left-color: var(--info); }
tr.group.dim, .card.dim { opacity: .55; }
.name { font-weight: 700; }
.badge { font-size: 11px; font-weight: 800; padding: 1px 6px; border-radius: 3px; color: #fff; background: var(--ok); }
.badge.bad { background: var(--bad); } .badge.warn { background: var(--warn); } .badge.info { background: var(--info); }
tr.detail > td { padding: 8px 6px 14px 20px; background: #f6f8fa; }
.card { background: #fff; border: 1px solid var(--line); border-left: 8px solid var(--ok); border-radius: 6px; padding: 14px 16px; }
.card.sev-warn { border-left-color: var(--warn); }
.card.sev-bad { border-left-color: var(--bad); }
.card.sev-info { border-left-color: var(--info); }
.plan ol { margin: 2px 0 6px; padding-left: 20px; font-size: 13px; font-family: ui-monospace, monospace; }
dialog .warning { color: var(--bad); font-weight: 700; margin: 4px 0; }
.top { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.top h2 { margin: 0; font-size: 20px; }
.active { font-size: 22px; font-weight: 800; padding: 2px 10px; border-radius: 4px; color: #fff; background: var(--ok); }
.active.secondary { background: var(--info); }
/* The badge wears the group's severity: never green while something is wrong. */
.active.sev-warn { background: var(--warn); } .active.sev-bad { background: var(--bad); }
.pill { font-size: 12px; font-weight: 700; padding: 2px 8px; border-radius: 10px; border: 1px solid currentColor; }
.pill.ok { color: var(--ok); } .pill.warn { color: var(--warn); } .pill.bad { color: var(--bad); } .pill.info { color: var(--info); }
.flags { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
.flag { padding: 4px 8px; border-radius: 4px; font-weight: 600; font-size: 13px; }
.flag.paused { background: #fff8c5; color: #6b4b00; }
.flag.held { background: #fbefff; color: #6e40c9; }
.flag.proposal { background: #fff8c5; color: #7d4e00; }
.flag.drill { background: #ddf4ff; color: var(--info); }
.drill-line.passed { color: var(--ok); }
.drill-line.over_budget, .drill-line.failed, .drill-line.interrupted, .drill-line.not_ready { color: var(--bad); }
.flag.proposal.pending { background: #ffebe9; color: var(--bad); font-weight: 600; }
.flag.cooldown { background: #ddf4ff; color: #0a3069; }
.flag.stale { background: var(--bad); color: #fff; }
.flag.error { background: #ffebe9; color: #82071e; }
.flag.ready { background: #dafbe1; color: #116329; }
.traffic { font-size: 14px; margin: 6px 0; padding: 4px 8px; border-radius: 4px; word-break: break-word; }
.traffic.ok { background: #dafbe1; color: #116329; } .traffic.warn { background: #fff8c5; color: #6b4b00; }
.traffic.bad { background: #ffebe9; color: #82071e; font-weight: 600; } .traffic.muted { background: #f6f8fa; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 14px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.url { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; color: var(--muted); }
.votes { font-size: 12px; font-weight: normal; color: var(--muted); }
.votes .vote.down { color: var(--bad); }
.healthy { color: var(--ok); font-weight: 700; } .unhealthy { color: var(--bad); font-weight: 700; } .unknown { color: var(--muted); }
.loop { font-size: 13px; color: var(--muted); margin: 4px 0; }
.loop.stale { color: var(--bad); font-weight: 700; }
.meta { font-size: 13px; color: var(--muted); }
h3 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
ol.timeline { list-style: none; margin: 0; padding: 0; font-size: 13px; }
ol.timeline li { padding: 3px 0 3px 10px; border-left: 3px solid var(--line); margin-bottom: 2px; }
ol.timeline li.failover, ol.timeline li.failback { border-left-color: var(--warn); }
ol.timeline li.failover_blocked, ol.timeline li.standby_down { border-left-color: var(--bad); }
ol.timeline .when { font-family: ui-monospace, monospace; color: var(--muted); }
ol.timeline .steps { color: var(--muted); }
ol.timeline li.switch_held, ol.timeline li.switch_compensated { border-left-color: var(--bad); }
ol.timeline ul.writes { margin: 2px 0 0; padding-left: 16px; font-family: ui-monospace, monospace; font-size: 12px; color: var(--muted); }
ol.timeline ul.writes li { border: 0; padding: 0; }
.breakglass { background: var(--bad); color: #fff; font-weight: 700; padding: 0 6px; border-radius: 3px; }
.actions { display: flex; gap: 8px; margin-top: 10px; flex-wrap: wrap; }
button { font: inherit; font-size: 14px; padding: 5px 12px; border-radius: 5px; border: 1px solid var(--line); background: #f6f8fa; cursor: pointer; }
button.danger { color: #fff; background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .45; cursor: not-allowed; }
.readonly { font-size: 13px; color: var(--muted); align-self: center; }
.result { font-size: 13px; margin-top: 6px; font-weight: 600; }
.result.refused { color: var(--warn); } .result.failed { color: var(--bad); } .result.done { color: var(--ok); }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 18px; width: 460px; }
dialog h2 { font-size: 18px; margin: 0 0 10px; }
dialog label { display: block; margin: 10px 0 4px; font-weight: 600; font-size: 13px; }
dialog input[type=text], dialog input[type=number] { width: 100%; font: inherit; padding: 5px; }
dialog .force { font-weight: 600; color: var(--bad); }
dialog .buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 14px; }
.empty { padding: 20px; color: var(--muted); }
`;
