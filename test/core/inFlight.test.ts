import { InFlight } from "../../src/core/inFlight";

test("concurrent calls with one key share one run; a later call runs again; errors are shared too", async () => {
  const shared = new InFlight<number>();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const start = async () => {
    runs++;
    await gate;
    return runs;
  };
  const calls = Array.from({ length: 50 }, () => shared.run("a", start));
  const other = shared.run("b", start);
  expect(shared.size).toBe(2);
  release();
  expect(new Set(await Promise.all(calls)).size).toBe(1);
  await other;
  expect(runs).toBe(2);
  expect(shared.size).toBe(0);
  await shared.run("a", start);
  expect(runs).toBe(3);
  const failing = [shared.run("c", () => Promise.reject(new Error("down"))), shared.run("c", async () => 1)];
  await expect(Promise.all(failing)).rejects.toThrow("down");
});
