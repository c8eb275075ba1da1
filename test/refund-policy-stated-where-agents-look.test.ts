// The refund policy in force is said where an agent decides to pay: the 402's resource.description and
// /agents.md (x-guidance is the same for every deployment, so it explains the field, not the policy).
import { afterAll, describe, expect, it } from "vitest";
import { inProcessApp, type InProcessApp } from "./support/in-process";
import { pollBody } from "./support/harness";

const apps: InProcessApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function challengeAndDocs(policy: "unfilled" | "none") {
  const app = inProcessApp({ env: { REFUND_POLICY: policy } });
  apps.push(app);
  const challenge = await app.postJson("/api/v1/polls", pollBody());
  expect(challenge.status).toBe(402);
  const body = (await challenge.json()) as { resource: { description: string } };
  const agentsMd = await (await app.request("/agents.md")).text();
  return { description: body.resource.description, agentsMd };
}

describe("the refund policy in force", () => {
  it("unfilled: the 402 says unfilled responses are refunded, and agents.md states the policy", async () => {
    const { description, agentsMd } = await challengeAndDocs("unfilled");
    expect(description).toMatch(/Unfilled responses are refunded/);
    // The CDP facilitator is reported to refuse long resource descriptions: keep it short.
    expect(description.length).toBeLessThan(400);
    expect(agentsMd).toMatch(/Refund policy for polls created now: unfilled/);
  });

  it("none: the 402 promises no refund", async () => {
    const { description, agentsMd } = await challengeAndDocs("none");
    expect(description).not.toMatch(/refund/i);
    expect(agentsMd).toMatch(/Refund policy for polls created now: none/);
  });
});
