import { createHmac } from "node:crypto";
import { WebhookSignatureError, secretKey, signWebhook, verifyWebhook } from "../../src/core/webhookSignature";

// The example from the Standard Webhooks specification's reference libraries.
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

describe("Standard Webhooks signing", () => {
  it("matches the specification's example signature", () => {
    const headers = signWebhook(SPEC_SECRET, SPEC_ID, SPEC_BODY, SPEC_TIMESTAMP * 1000 + 999);
    expect(headers).toEqual({ "webhook-id": SPEC_ID, "webhook-timestamp": String(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE });
  });

  it("signs id.timestamp.body with the decoded whsec_ key, and a plain secret as its UTF-8 bytes", () => {
    const plain = "a-plain-shared-secret-of-some-length";
    const headers = signWebhook(plain, "grp:3:secondary", '{"a":1}', 1_700_000_000_000);
    const expected = createHmac("sha256", Buffer.from(plain, "utf8")).update('grp:3:secondary.1700000000.{"a":1}').digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
    expect(secretKey(SPEC_SECRET)).toEqual(Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64"));
  });

  it("verifies its own signature and returns the message id; any change to body, id or timestamp fails", () => {
    const now = 1_700_000_000_000;
    const body = '{"to":"secondary"}';
    const headers = signWebhook(SPEC_SECRET, "g:1:secondary", body, now);
    expect(verifyWebhook(SPEC_SECRET, headers, body, now + 10_000)).toBe("g:1:secondary");
    expect(() => verifyWebhook(SPEC_SECRET, headers, body + " ", now)).toThrow("webhook-signature: no v1 signature matches the body");
    expect(() => verifyWebhook(SPEC_SECRET, { ...headers, "webhook-id": "g:2:secondary" }, body, now)).toThrow(WebhookSignatureError);
    const shifted = { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) + 1) };
    expect(() => verifyWebhook(SPEC_SECRET, shifted, body, now)).toThrow("no v1 signature matches");
    expect(() => verifyWebhook("whsec_" + Buffer.alloc(24, 7).toString("base64"), headers, body, now)).toThrow("no v1 signature matches");
  });

  it("accepts one matching signature among several (key rotation) and ignores other versions", () => {
    const now = 1_700_000_000_000;
    const headers = signWebhook(SPEC_SECRET, "m1", "x", now);
    const rotated = { ...headers, "webhook-signature": `v1a,abc v1,${Buffer.alloc(32).toString("base64")} ${headers["webhook-signature"]}` };
    expect(verifyWebhook(SPEC_SECRET, rotated, "x", now)).toBe("m1");
  });

  it("refuses old, future and malformed timestamps and missing headers, naming the header", () => {
    const now = 1_700_000_000_000;
    const headers = signWebhook(SPEC_SECRET, "m1", "x", now);
    expect(() => verifyWebhook(SPEC_SECRET, headers, "x", now + 301_000)).toThrow("webhook-timestamp: 301 s old, more than the 300 s tolerated");
    expect(() => verifyWebhook(SPEC_SECRET, headers, "x", now - 400_000)).toThrow("webhook-timestamp: 400 s in the future");
    expect(() => verifyWebhook(SPEC_SECRET, { ...headers, "webhook-timestamp": "1e9" }, "x", now)).toThrow("webhook-timestamp: must be whole seconds");
    expect(() => verifyWebhook(SPEC_SECRET, { "webhook-id": "m1", "webhook-timestamp": "1" }, "x", now)).toThrow("webhook-signature: header missing");
  });

  it("refuses bad secrets and ids with a message naming them", () => {
    expect(() => signWebhook("whsec_not base64!", "m1", "x", 0)).toThrow("webhook secret: the part after whsec_ must be base64");
    expect(() => signWebhook("whsec_AAAA", "m1", "x", 0)).toThrow("webhook secret: must decode to at least 16 bytes (got 3)");
    expect(() => signWebhook("short", "m1", "x", 0)).toThrow("webhook secret: must be at least 16 characters (got 5)");
    expect(() => signWebhook(SPEC_SECRET, "has space", "x", 0)).toThrow("webhook-id: must be 1-256 printable ASCII characters");
    expect(() => signWebhook(SPEC_SECRET, "tab\there", "x", 0)).toThrow("webhook-id");
    expect(() => signWebhook(SPEC_SECRET, "", "x", 0)).toThrow("webhook-id");
  });
});
