import { runBench } from "../../src/local/bench";

/**
 * A smoke test of `npm run bench` (it broke once without anyone noticing): every part runs,
 * with a handful of iterations, and prints its summary line. Nothing about speed is asserted.
 */
test("npm run bench, quick: every benchmark prints its summary line", async () => {
  const lines: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  try {
    await runBench({ quick: true });
  } finally {
    spy.mockRestore();
  }
  const stats = "n=\\d+ mean=[\\d.]+ p50=[\\d.]+ p95=[\\d.]+ max=[\\d.]+ ms";
  for (const pattern of [
    `^health_check \\(.*\\) ${stats}$`,
    `^do_failover \\(.*\\) ${stats}$`,
    `^10 concurrent do_failover, exactly one switch: ${stats} per round$`,
    "^readers: 0 clients polling health_check and status: detection-to-switch [\\d.]+ s, bound 4 s .*: (within|OVER) the bound; lost cycles \\d+; \\d+ cycles from the break to the switch \\(threshold 3\\)$",
    `^readers: 60 clients polling health_check and status: detection-to-switch [\\d.]+ s, bound 4 s .*: (within|OVER) the bound; lost cycles \\d+; \\d+ cycles from the break to the switch \\(threshold 3\\); \\d+ polls, \\d+ not 200, latency ${stats}$`,
    `^replay of one full cycle \\(10 events\\) through the replay engine ${stats}$`,
    `^switch plan traffic_manager \\+ dns, time the switch cycle adds to a failover .*: ${stats}$`,
  ]) {
    expect([pattern, lines.some((l) => new RegExp(pattern).test(l))]).toEqual([pattern, true]);
  }
  // Readers never write: the pollers cost the loop no cycle (a behaviour, not a timing).
  expect(lines.find((l) => l.startsWith("readers: 60"))).toMatch(/lost cycles 0;.* 0 not 200/);
}, 90_000);
