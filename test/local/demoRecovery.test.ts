import { runRecoveryDemo } from "../../src/local/tools/demoRecovery";

/** `npm run demo:recovery`, in process: every step a PASS line, with the drill's measured recovery time and the approval. */
test("npm run demo:recovery: a dry run, a drill with its recovery time against the budget, a proposed failover approved and verified", async () => {
  const lines: string[] = [];
  const ok = await runRecoveryDemo((l) => lines.push(l));
  const out = lines.join("\n");
  expect(out).toMatch(/PASS 1 dry run: passed: readiness and read-back in [\d.]+ s, 0 writes to Azure \(read traffic_manager \d+ ms, read dns \d+ ms\)/);
  expect(out).toMatch(
    /PASS 2 drill: passed: recovery [\d.]+ s of a 60 s budget, switchback [\d.]+ s, 6 writes \(over traffic_manager \d+ ms, over dns \d+ ms, back traffic_manager \d+ ms, back dns \d+ ms\)/,
  );
  expect(out).toMatch(/PASS 3 failover proposed, not made: failover-\w+ waits for approval until \S+: \d+ consecutive failed checks of the primary \(threshold 2\); the standby \(secondary\) healthy/);
  expect(out).toMatch(
    /PASS 4 approved, traffic moved: verified on the secondary [\d.]+ s after the approval; profile tm-app: app-east Disabled, app-west Enabled; .*PUT www app-west\.example\.net; audit: approved by function key at /,
  );
  expect(out).toMatch(/DONE every step passed/);
  expect(ok).toBe(true);
}, 90_000);
