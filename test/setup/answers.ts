import { onServedAnswer, type ServedAnswer } from "../../src/local/host/servedAnswers";

/**
 * Every answer a local host gives during a test is checked against the OpenAPI document
 * (src/core/httpRoutes.ts, docs/openapi.json): a status the document does not list for the
 * route, or a JSON body its schema refuses, fails the test that received it, naming the route,
 * the status and the field. The checker loads with the first answer, so test files that start
 * no local host pay nothing.
 */

const problems: string[] = [];

onServedAnswer((answer: ServedAnswer) => {
  try {
    const { answerProblem } = require("../helpers/openApiAnswers") as typeof import("../helpers/openApiAnswers");
    const problem = answerProblem(answer);
    if (problem) problems.push(problem);
  } catch (err) {
    problems.push(`${answer.method} /api/${answer.route} answered ${answer.status}: the check failed: ${(err as Error).message}`);
  }
});

function failOnMismatches(): void {
  if (problems.length === 0) return;
  const found = problems.splice(0);
  throw new Error(`${found.length} answer(s) of the local host do not match the OpenAPI document (the schemas in src/core/httpRoutes.ts and what they use):\n` + found.map((p) => `  ${p}`).join("\n"));
}

afterEach(failOnMismatches);
afterAll(failOnMismatches);
