import { loadConfig } from "../../src/core/config";
import { policySchema, defaultPolicyText } from "../../src/core/knobs";
import { readiness } from "../../src/core/operations";
import { topologyProblems } from "../../src/core/topology";
import type { VantageAgent } from "../../src/core/vantage";
import { bootstrappedGroup } from "../helpers/env";
import { AGENT_TEST_KEY } from "../helpers/vantageAgents";

const policy = (extra: Record<string, string> = {}) => policySchema.parse({ ...defaultPolicyText(), ...extra });
const agent = (name: string, region?: string): VantageAgent => ({ name, url: `https://${name}.example/api/probe`, ...(region ? { region } : {}) });
const config = (agents: VantageAgent[], region?: string, stateStorageRegion?: string) => ({
  vantages: { agents, ...(region ? { region } : {}) },
  ...(stateStorageRegion ? { stateStorageRegion } : {}),
});

describe("a topology no single region can blind (pure)", () => {
  test("the recommended one: controller and storage in a third region, three vantages in three regions, quorum 2: no problem", () => {
    expect(
      topologyProblems({ primary_region: "westeurope", secondary_region: "northeurope" }, config([agent("eastus", "eastus"), agent("japaneast", "japaneast")], "uksouth", "uksouth"), policy()),
    ).toEqual([]);
  });

  test("a group with no regions and no agents is judged as before and reports nothing", () => {
    expect(topologyProblems({}, config([], "westeurope"), policy())).toEqual([]);
  });

  test("the controller or its storage in the primary's region, both sides in one region", () => {
    const problems = topologyProblems({ primary_region: "westeurope", secondary_region: "westeurope" }, config([agent("a", "eastus"), agent("b", "japaneast")], "westeurope", "westeurope"), policy());
    expect(problems).toEqual([
      "topology: the controller runs in westeurope, the primary's region: the outage it exists for would take it down too",
      "topology: the state storage account is in westeurope, the primary's region: losing it stops every decision",
      "topology: the primary and the secondary are both in westeurope: one regional outage takes both",
    ]);
  });

  test("fewer than three vantages; every vantage in one region; a quorum one region reaches alone; a vantage of unknown region", () => {
    expect(topologyProblems({ primary_region: "westeurope" }, config([], "uksouth"), policy())).toEqual([
      "topology: 1 vantage (controller): at least 3 are needed for a quorum that outvotes one cut-off place",
    ]);
    expect(topologyProblems({ primary_region: "westeurope" }, config([agent("a", "uksouth"), agent("b", "uksouth")], "uksouth"), policy())).toEqual([
      "topology: every vantage is in uksouth: that region's network trouble looks like an outage everywhere",
    ]);
    // Two of four vantages in one region, quorum 2 (set by hand; the default would be 3): that region alone can fail the group over.
    expect(topologyProblems({ primary_region: "westeurope" }, config([agent("a", "eastus"), agent("b", "eastus"), agent("c", "japaneast")], "uksouth"), policy({ quorum: "2" }))).toEqual([
      "topology: the 2 vantages in eastus (a, b) reach the quorum of 2 alone: a fault in eastus could fail the group over",
    ]);
    expect(topologyProblems({ primary_region: "westeurope" }, config([agent("a", "eastus"), agent("b")], "uksouth"), policy())).toEqual([
      'topology: the region of b is not known (REGION_NAME for the controller, "region" in VANTAGE_AGENTS): the check below cannot count it',
    ]);
    // The group's selection counts, not every configured agent.
    expect(topologyProblems({ primary_region: "westeurope" }, config([agent("a", "eastus"), agent("b", "japaneast")], "uksouth"), policy({ vantages: "a,b" }))[0]).toBe(
      "topology: 2 vantages (a, b): at least 3 are needed for a quorum that outvotes one cut-off place",
    );
  });
});

describe("readiness reports the topology (Azurite)", () => {
  const agents = JSON.stringify([
    { name: "eastus", url: "https://eastus.example/api/probe", region: "eastus" },
    { name: "westus", url: "https://westus.example/api/probe", region: "westus" },
  ]);

  test("the default group's regions come from the settings, are kept on its row, and readiness names each problem", async () => {
    const { deps, row } = await bootstrappedGroup({
      PRIMARY_ENDPOINT: "http://127.0.0.1:1/p",
      SECONDARY_ENDPOINT: "http://127.0.0.1:2/s",
      PRIMARY_REGION: "WestEurope",
      SECONDARY_REGION: "northeurope",
      STATE_STORAGE_REGION: "westeurope",
      REGION_NAME: "uksouth",
      VANTAGE_AGENTS: agents,
      VANTAGE_AGENT_KEY: AGENT_TEST_KEY,
    });
    expect(await row()).toMatchObject({ primary_region: "westeurope", secondary_region: "northeurope" });
    expect(await readiness(deps, "state")).toMatchObject({
      plan: "none",
      ready: false,
      problems: ["topology: the state storage account is in westeurope, the primary's region: losing it stops every decision"],
    });
  });

  test("a plan-less group without regions or agents stays ready, as before", async () => {
    const { deps } = await bootstrappedGroup({ PRIMARY_ENDPOINT: "http://127.0.0.1:1/p", SECONDARY_ENDPOINT: "http://127.0.0.1:2/s", REGION_NAME: "westeurope" });
    expect(await readiness(deps, "state")).toMatchObject({ plan: "none", ready: true, problems: [] });
  });

  test("a bad region setting is named", () => {
    expect(() => loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", PRIMARY_REGION: "west europe" })).toThrow(/PRIMARY_REGION: must be an Azure region name such as westeurope/);
  });
});
