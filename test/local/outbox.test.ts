import { verifyWebhook } from "../../src/core/webhookSignature";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { testEnv } from "../helpers/env";
import { startReceiver, type WebhookReceiver } from "../helpers/receiver";

const SECRET = "whsec_" + Buffer.from("local-outbox-secret-0123456789").toString("base64");

/** Finding 12 end to end: webhook delivery never runs inside an HTTP request; the loop delivers the outbox. */
describe("notifications through the outbox on the local host", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let receiver: WebhookReceiver;
  let host: LocalHost;
  let logs: string[];

  beforeEach(async () => {
    logs = [];
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    receiver = await startReceiver();
    const env = testEnv({
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      COOLDOWN_SECONDS: "600",
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: SECRET,
    });
    host = await startLocalHost({ env, timers: false, log: (m) => logs.push(m) });
  });
  afterEach(async () => {
    await host.stop();
    await receiver.close();
    await primary.close();
    await secondary.close();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);

  test("a dead webhook: pause and resume answer without any outbound call; the loop keeps checking, fails over, and delivers once the webhook is back", async () => {
    // Every delivery hangs until released: a request that waited on it would never answer.
    receiver.answers.push(...Array(1000).fill("hang"));
    expect((await api("POST", "/api/init")).status).toBe(201);
    // No loop runs yet, so anything the receiver gets would have come from the request itself.
    expect(await api("POST", "/api/pause", { reason: "patching" })).toMatchObject({ status: 200, body: { changed: true, paused: true } });
    expect(await api("POST", "/api/resume", {})).toMatchObject({ status: 200, body: { changed: true, paused: false } });
    expect(receiver.received).toHaveLength(0);
    const history = await api("GET", "/api/history?limit=5");
    expect(history.body.entries.map((e: { kind: string; notification_status: string }) => `${e.kind}:${e.notification_status}`)).toEqual(["resume:pending", "pause:pending"]);

    // The loop delivers, the webhook hangs (one attempt per cycle, each up to its timeout), and the checks go on.
    expect((await api("POST", "/api/start")).status).toBe(202);
    await eventually("a first delivery attempt", async () => (receiver.received.length > 0 ? true : undefined));
    primary.behave({ kind: "status", status: 503 });
    const switched = await eventually(
      "the failover while the webhook is down",
      async () => {
        const s = await api("GET", "/api/status");
        return s.body?.state?.active_target === "secondary" ? s : undefined;
      },
      30_000,
    );
    expect(switched.body.state).toMatchObject({ failover_count: 1 });
    const waiting = await api("GET", "/api/history?limit=5");
    expect(waiting.body.entries[0]).toMatchObject({ kind: "failover", actor: "orchestrator", notification_status: "pending" });
    expect(
      waiting.body.entries.some((e: { notification_attempts: number; notification_error?: string }) => e.notification_attempts > 0 && /no answer within 3000 ms/.test(e.notification_error ?? "")),
    ).toBe(true);
    // The app's log line for it reaches the host's log, as the Functions host collects a worker's.
    expect(logs).toContainEqual(expect.stringMatching(/^notification state:\S+ not delivered \(attempt 1\): no answer within 3000 ms$/));

    // The webhook comes back: everything is delivered, once, signed, with notified_utc on the entry.
    receiver.answers.length = 0;
    receiver.release();
    const delivered = await eventually(
      "every notification delivered",
      async () => {
        const h = await api("GET", "/api/history?limit=5");
        return h.body.entries.every((e: { notification_status: string }) => e.notification_status === "delivered") ? h : undefined;
        // Up to the longest backoff an entry reached while the webhook hung (5 s doubling to 5 min): generous on a loaded machine.
      },
      180_000,
    );
    for (const e of delivered.body.entries) expect(Date.parse(e.notified_utc)).toBeGreaterThanOrEqual(Date.parse(e.at));
    const answered = receiver.received.filter((r) => verifyWebhook(SECRET, r.headers, r.body, Number(r.headers["webhook-timestamp"]) * 1000));
    const ids = delivered.body.entries.map((e: { id: string }) => `state:${e.id}`);
    expect(new Set(answered.map((r) => r.headers["webhook-id"]))).toEqual(new Set(ids));
    expect(JSON.parse(answered.find((r) => r.headers["webhook-id"] === ids[0])!.body)).toMatchObject({ kind: "failover", from: "primary", to: "secondary" });
  }, 300_000);
});
