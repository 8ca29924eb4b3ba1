import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";

/** A primary and a secondary sample backend for the enclosing describe block, healthy before each test. */
export function backendPair(): { readonly primary: SampleBackend; readonly secondary: SampleBackend } {
  const pair = {} as { primary: SampleBackend; secondary: SampleBackend };
  beforeAll(async () => {
    pair.primary = await startSampleBackend("primary");
    pair.secondary = await startSampleBackend("secondary");
  });
  beforeEach(() => {
    pair.primary.behave({ kind: "ok" });
    pair.secondary.behave({ kind: "ok" });
  });
  afterAll(async () => {
    await pair.primary.close();
    await pair.secondary.close();
  });
  return pair;
}
