import { deliverNotifications, pause, resume, switchTarget } from "../../src/core/operations";
import { verifyWebhook } from "../../src/core/webhookSignature";
import { backendPair } from "../helpers/backends";
import { bootstrappedGroup } from "../helpers/env";
import { startReceiver, type WebhookReceiver } from "../helpers/receiver";

const SECRET = "whsec_" + Buffer.from("outbox-test-secret-0123456789").toString("base64");

/** Notifications through the audit outbox, delivered by the loop's activity (finding 12), on Azurite. */
describe("the notification outbox", () => {
  const backends = backendPair();
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());

  const setup = async (settings: Record<string, string> = {}) => {
    const group = await bootstrappedGroup({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, NOTIFY_WEBHOOK_URL: receiver.url, ...settings });
    return { ...group, clock: group.clock };
  };
  const bodies = () => receiver.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);

  test("a transition makes no outbound call; its entry waits, pending, for the loop", async () => {
    const { deps } = await setup();
    receiver.answers.push("hang");
    await switchTarget(deps, "state", { reason: "drill", actor: "carol" });
    await pause(deps, "state", { reason: "patching", actor: "dave" });
    expect(receiver.received).toHaveLength(0);
    const entries = (await deps.audit.list("state", 5)).entries;
    expect(entries.map((e) => [e.kind, e.notification_status, e.notification_attempts])).toEqual([
      ["pause", "pending", 0],
      ["failover", "pending", 0],
    ]);
  });

  test("a webhook that fails twice then works: delivered exactly once more, same id, valid signature; backoff 5 s then 10 s; notified_utc recorded", async () => {
    const { deps, clock } = await setup({ NOTIFY_WEBHOOK_SECRET: SECRET });
    receiver.answers.push(500, 503);
    await switchTarget(deps, "state", { reason: "drill *now* @channel", actor: "carol" });
    const [entry] = (await deps.audit.list("state", 1)).entries;
    const id = `state:${entry.id}`;

    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 0, failed: 1 });
    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 0, failed: 0 }); // not due: backing off
    clock.advance(4);
    expect(await deliverNotifications(deps, "state")).toMatchObject({ failed: 0 });
    clock.advance(1); // 5 s after the first attempt
    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 0, failed: 1 });
    expect((await deps.audit.list("state", 1)).entries[0]).toMatchObject({ notification_status: "pending", notification_attempts: 2, notification_error: "attempt 2: HTTP 503" });
    clock.advance(9);
    expect(await deliverNotifications(deps, "state")).toMatchObject({ failed: 0 });
    clock.advance(1); // 10 s after the second attempt
    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 1, failed: 0 });
    clock.advance(3600);
    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 0, failed: 0 });

    expect(receiver.received).toHaveLength(3);
    for (const r of receiver.received) {
      expect(r.headers["webhook-id"]).toBe(id);
      const sentAt = Number(r.headers["webhook-timestamp"]) * 1000;
      expect(verifyWebhook(SECRET, r.headers, r.body, sentAt)).toBe(id);
    }
    expect(() => verifyWebhook(SECRET, receiver.received[2].headers, receiver.received[2].body.replace("carol", "mallory"), clock.now().getTime() - 3600_000)).toThrow(/no v1 signature matches/);
    const message = bodies()[2];
    expect(message).toMatchObject({ id, group: "state", kind: "failover", from: "primary", to: "secondary", actor: "carol", failover_count: 1 });
    // Teams/Slack text: readable, the caller's markdown and mentions escaped.
    expect(message.text).toMatch(/^\*\*Failover\*\* in failover group `state`: primary -> secondary\.\n\nReason: drill \\\*now\\\* @\u2060channel/);
    expect(message.text).toMatch(/cooldown until /);
    const delivered = (await deps.audit.list("state", 1)).entries[0];
    expect(delivered).toMatchObject({ notification_status: "delivered", notification_attempts: 3, notified_utc: new Date(Date.parse(entry.at) + 15_000).toISOString() });
    expect(delivered.notification_error).toBeUndefined();
    expect(delivered.notification_next_utc).toBeUndefined();
  });

  test("unsigned without a secret: the webhook-id header only", async () => {
    const { deps } = await setup();
    await pause(deps, "state", { actor: "dave" });
    await deliverNotifications(deps, "state");
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0].headers["webhook-id"]).toMatch(/^state:\d{13}-\d{6}-[0-9a-f]{8}$/);
    expect(receiver.received[0].headers["webhook-signature"]).toBeUndefined();
  });

  test("a receiver that never answers 2xx: retried across cycles until NOTIFY_EXPIRY_SECONDS, then recorded as expired and never sent again", async () => {
    const { deps, clock, row } = await setup({ NOTIFY_EXPIRY_SECONDS: "60" });
    receiver.answers.push(...Array(100).fill(500));
    expect(await switchTarget(deps, "state")).toMatchObject({ changed: true });
    for (let cycle = 0; cycle < 12; cycle++) {
      await deliverNotifications(deps, "state");
      clock.advance(5);
    }
    const attempts = receiver.received.length;
    expect(attempts).toBe(4); // at 0, 5, 15 and 35 s: backoff 5, 10, 20 s
    expect(await deliverNotifications(deps, "state")).toMatchObject({ expired: 1, failed: 0 });
    expect(receiver.received).toHaveLength(attempts);
    clock.advance(3600);
    expect(await deliverNotifications(deps, "state")).toMatchObject({ expired: 0, failed: 0, delivered: 0 });
    expect(receiver.received).toHaveLength(attempts);
    const [entry] = (await deps.audit.list("state", 1)).entries;
    expect(entry).toMatchObject({ notification_status: "expired", notification_attempts: 4 });
    expect(entry.notification_error).toMatch(/^attempt 4: HTTP 500; not delivered within NOTIFY_EXPIRY_SECONDS \(60 s\)$/);
    expect(await row()).toMatchObject({ active_target: "secondary", failover_count: 1 }); // the failover stands
  });

  test("a webhook that hangs costs one timeout per cycle: the first failure ends the batch", async () => {
    const { deps } = await setup();
    receiver.answers.push("hang");
    await pause(deps, "state", { actor: "a" });
    await resume(deps, "state", { actor: "b" });
    expect(await deliverNotifications(deps, "state")).toMatchObject({ delivered: 0, failed: 1 });
    expect(receiver.received).toHaveLength(1);
    const entries = (await deps.audit.list("state", 5)).entries;
    expect(entries.map((e) => [e.kind, e.notification_attempts])).toEqual([
      ["resume", 0],
      ["pause", 1],
    ]);
    expect(entries[1].notification_error).toBe("attempt 1: no answer within 1000 ms");
  });

  test("oldest first, at most a batch per cycle; two runs at once (an activity repeated) send each message once", async () => {
    const { deps, clock } = await setup();
    const control = async (i: number) => {
      clock.advance(1);
      await (i % 2 === 0 ? pause(deps, "state", { actor: `op${i}` }) : resume(deps, "state", { actor: `op${i}` }));
    };
    for (let i = 0; i < 6; i++) await control(i);
    const small = { ...deps, notify: { ...deps.notify, batch: 4 } };
    expect(await deliverNotifications(small, "state")).toMatchObject({ delivered: 4 });
    expect(bodies().map((b) => b.actor)).toEqual(["op0", "op1", "op2", "op3"]);
    for (let i = 6; i < 10; i++) await control(i);
    const reports = await Promise.all([deliverNotifications(deps, "state"), deliverNotifications(deps, "state")]);
    expect(reports[0].delivered + reports[1].delivered).toBe(6);
    const actors = bodies().map((b) => b.actor);
    expect([...actors].sort()).toEqual(["op0", "op1", "op2", "op3", "op4", "op5", "op6", "op7", "op8", "op9"]);
    expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(10);
    expect((await deps.audit.list("state", 20)).entries.every((e) => e.notification_status === "delivered")).toBe(true);
  });
});
