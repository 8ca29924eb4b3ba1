import { format } from "node:util";
import { TestEnvironment } from "jest-environment-node";

/**
 * Node's test environment, quiet while tests pass. What the code under test writes with
 * console.warn (in tests: the app's and the local host's log lines, which a local host started
 * without a `log` option writes there) is held, and printed only when a test or a hook fails:
 * every line since the last test that passed, after the file's results. A test that means to
 * print a line in every run uses console.log; console.error is never held.
 */

interface TestEvent {
  readonly name: string;
  readonly test?: { readonly name: string; readonly errors: readonly unknown[] };
  readonly hook?: { readonly type: string };
}

export default class QuietWhilePassing extends TestEnvironment {
  private held: string[] = [];
  private readonly print: (message: string) => void;

  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    const testConsole = args[1].console;
    // console.info: jest prints it without a code frame, which here would only point at this file.
    const info = testConsole.info.bind(testConsole);
    this.print = (message) => info(message);
    testConsole.warn = (...values: unknown[]) => void this.held.push(format(...values));
  }

  handleTestEvent(event: TestEvent): void {
    if (event.name === "test_done" && event.test!.errors.length === 0) this.held = [];
    const failed = event.name === "test_done" ? `test "${event.test!.name}"` : event.name === "hook_failure" ? `${event.hook!.type} hook` : undefined;
    if (failed && this.held.length > 0) {
      this.print(`console.warn since the last test that passed, shown because the ${failed} failed:\n${this.held.join("\n")}`);
      this.held = [];
    }
  }
}
