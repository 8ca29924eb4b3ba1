import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/**
 * The README is the front door and docs/ holds the reference: every relative link in them
 * leads to a file that exists and, with an #anchor, to a heading in it; every doc is reachable
 * from the README; the README stays a few screens long.
 */

const root = join(__dirname, "..", "..");
const docs = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md") && !f.startsWith("_")).map((f) => `docs/${f}`);
const files = ["README.md", ...docs];
const read = (file: string) => readFileSync(join(root, file), "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");
}

function anchors(file: string): Set<string> {
  const text = read(file).replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

/** Markdown links outside code blocks: [text](target). */
function links(file: string): string[] {
  const text = read(file).replace(/```[\s\S]*?```/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

test.each(files)("every relative link in %s leads to a file that exists and a heading in it", (file) => {
  const broken: string[] = [];
  for (const link of links(file)) {
    if (/^[a-z]+:/i.test(link)) continue;
    const [path, anchor] = link.split("#") as [string, string | undefined];
    const target = path === "" ? file : normalize(join(dirname(file), path));
    if (!existsSync(join(root, target))) broken.push(`${link}: no file ${target}`);
    else if (anchor !== undefined && target.endsWith(".md") && !anchors(target).has(anchor)) broken.push(`${link}: no heading #${anchor} in ${target}`);
  }
  expect(broken).toEqual([]);
});

test("the README links every doc, and stays a few screens long", () => {
  const readme = read("README.md");
  for (const doc of docs) expect([doc, readme.includes(`](${doc}`)]).toEqual([doc, true]);
  expect(readme.split("\n").length).toBeLessThanOrEqual(250);
});
