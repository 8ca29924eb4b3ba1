import { capText, cleanText, escapeChatText, hasControl, stripControl } from "../../src/core/text";
import { REDACTED, clearRegisteredSecrets, redact, redactDeep, registerSecrets } from "../../src/core/redact";

describe("cleaning caller-supplied text", () => {
  test("control, bidi and zero-width characters become single spaces; the text is trimmed", () => {
    expect(stripControl("a\r\nb\tc\u0000d\u001be\u007ff\u0085g")).toBe("a b c d e f g");
    expect(stripControl("admin\u202e\u2066evil\u200b\ufeff")).toBe("admin evil");
    expect(stripControl("  plain text  ")).toBe("plain text");
    expect(hasControl("ok")).toBe(false);
    expect(hasControl("x\u202ey")).toBe(true);
  });

  test("caps count characters, never split a surrogate pair, and mark the cut", () => {
    expect(capText("abc", 3)).toBe("abc");
    expect(capText("abcd", 3)).toBe("ab…");
    const emoji = "😀".repeat(10);
    const capped = capText(emoji, 4);
    expect(Array.from(capped)).toHaveLength(4);
    expect(capped).toBe("😀😀😀…");
    expect(cleanText(`x${"\n".repeat(5)}${"y".repeat(10_000)}`, 128)).toHaveLength(128);
  });

  test("chat text: markdown that formats or links is escaped; <, >, & are entities; @ mentions are broken", () => {
    const escaped = escapeChatText("**bold** [click](https://evil.example) <!channel> <at>Ops</at> @here `code` a_b & ~x~ # h | t");
    expect(escaped).toBe("\\*\\*bold\\*\\* \\[click\\](https://evil.example) &lt;!channel&gt; &lt;at&gt;Ops&lt;/at&gt; @\u2060here \\`code\\` a\\_b &amp; \\~x\\~ \\# h \\| t");
    expect(escapeChatText("line1\nline2")).toBe("line1 line2");
  });
});

describe("redaction", () => {
  afterEach(() => clearRegisteredSecrets());

  const sas = "sv=2022-11-02&ss=t&srt=sco&sp=rwdlacu&se=2030-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig=AbCdEf%2B0123456789abcdefGhIjKlMnOp%3D";
  const key = `${"Q".repeat(86)}==`;

  test("connection-string secrets, SAS signatures, keys, tokens and URL credentials are cut by shape", () => {
    const text = [
      `DefaultEndpointsProtocol=https;AccountName=st1;AccountKey=${key};EndpointSuffix=core.windows.net`,
      `TableEndpoint=https://st1.table.core.windows.net/;SharedAccessSignature=${sas}`,
      `GET https://st1.table.core.windows.net/failoverstate()?${sas} failed`,
      "https://app.azurewebsites.net/api/status?code=abcDEF123456789==&group=x",
      "https://admin:hunter2@internal.example/health",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz",
      "x-functions-key=abcdef0123456789",
      "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
      "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456",
      `bare key ${key} end`,
    ].join("\n");
    const out = redact(text);
    for (const secret of [key, "sig=AbCdEf", "abcDEF123456789", "hunter2", "eyJhbGciOiJIUzI1NiJ9", "abcdef0123456789", "T000/B000", "IncomingWebhook/123"]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain("AccountName=st1");
    expect(out).toContain("group=x");
    expect(out).toContain(`AccountKey=${REDACTED}`);
    expect(out).toContain(`https://${REDACTED}@internal.example/health`);
  });

  test("registered values are cut wherever they appear, whole or by their query", () => {
    registerSecrets("https://notify.example/hook/abc?token-like=zzzzzzzzzz", undefined, "short");
    expect(redact("POST https://notify.example/hook/abc?token-like=zzzzzzzzzz failed")).toBe(`POST ${REDACTED} failed`);
    expect(redact("query was token-like=zzzzzzzzzz")).toBe(`query was ${REDACTED}`);
    expect(redact("short stays")).toBe("short stays");
  });

  test("redactDeep walks plain objects and arrays and leaves other values alone", () => {
    const when = new Date();
    expect(redactDeep({ a: [`AccountKey=${key}`], n: 1, when, nested: { m: "ok" } })).toEqual({ a: [`AccountKey=${REDACTED}`], n: 1, when, nested: { m: "ok" } });
  });
});
