/**
 * Every answer the local host's HTTP functions give, told to whoever listens: the tests check
 * each one against the OpenAPI document (test/setup/answers.ts). No listener, no cost.
 */

export interface ServedAnswer {
  readonly method: string;
  /** The registered route: the path under /api. */
  readonly route: string;
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
}

const listeners = new Set<(answer: ServedAnswer) => void>();

/** Tells `listener` of every answer until the returned function is called. */
export function onServedAnswer(listener: (answer: ServedAnswer) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function tellServedAnswer(answer: ServedAnswer): void {
  for (const listener of listeners) listener(answer);
}
