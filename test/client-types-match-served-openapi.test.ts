// The typed client's types are the server's own zod schemas (src/client/types.ts infers them): the type
// assertions below fail `npm run typecheck` when a client type stops being its schema's, and the checks
// below fail when the served /openapi.json stops saying what those schemas say, or an operation the client
// calls stops answering with them. Drift between the client and the service fails here.
import { OpenAPIHono, type z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { CreatedPoll, CreatePollInput, PaymentPending, Poll, PollPage, ProgressEvent, Quote, ReadTokenRecovery, Results, TerminalEvent, Vote, VotesPage } from "../src/client";
import { USDC_ASSETS } from "../src/client";
import { ErrorResponse, PaymentRequiredResponse } from "../src/http/openapi-shapes";
import { PRODUCTION_NETWORKS } from "../src/payment";
import { QuoteResponse } from "../src/payment/quote-schema";
import { ProgressEventData, TerminalEventData } from "../src/polls/progress-stream";
import { CreatePollBody, CreatePollResponse } from "../src/polls/schema";
import { PaymentPendingResponse, PollList, PollResults, PollVote, PollVotesPage, PublicPoll, RecoveryResponse } from "../src/polls/wire";
import { inProcessApp, type InProcessApp } from "./support/in-process";

// Compile-time: each client type is exactly its schema's.
expectTypeOf<CreatePollInput>().toEqualTypeOf<z.input<typeof CreatePollBody>>();
expectTypeOf<CreatedPoll>().toEqualTypeOf<z.infer<typeof CreatePollResponse>>();
expectTypeOf<PaymentPending>().toEqualTypeOf<z.infer<typeof PaymentPendingResponse>>();
expectTypeOf<Quote>().toEqualTypeOf<z.infer<typeof QuoteResponse>>();
expectTypeOf<Poll>().toEqualTypeOf<z.infer<typeof PublicPoll>>();
expectTypeOf<PollPage>().toEqualTypeOf<z.infer<typeof PollList>>();
expectTypeOf<Results>().toEqualTypeOf<z.infer<typeof PollResults>>();
expectTypeOf<Vote>().toEqualTypeOf<z.infer<typeof PollVote>>();
expectTypeOf<VotesPage>().toEqualTypeOf<z.infer<typeof PollVotesPage>>();
expectTypeOf<ReadTokenRecovery>().toEqualTypeOf<z.infer<typeof RecoveryResponse>>();
expectTypeOf<ProgressEvent>().toEqualTypeOf<z.infer<typeof ProgressEventData>>();
expectTypeOf<TerminalEvent>().toEqualTypeOf<z.infer<typeof TerminalEventData>>();

/** The components the client's schemas are, by the name they carry in openapi.json. */
const CLIENT_SCHEMAS: Record<string, z.ZodType> = {
  CreatePollRequest: CreatePollBody,
  CreatePollResponse,
  PaymentPending: PaymentPendingResponse,
  PaymentRequired: PaymentRequiredResponse,
  Quote: QuoteResponse,
  Poll: PublicPoll,
  PollList,
  PollResults,
  PollVote,
  PollVotesPage,
  ReadTokenRecovery: RecoveryResponse,
  Error: ErrorResponse,
  PollProgressEvent: ProgressEventData,
  PollTerminalEvent: TerminalEventData,
};

/** What each operation the client calls answers (a component name), as the client reads it. */
const CLIENT_OPERATIONS: [method: string, path: string, status: string, component: string][] = [
  ["get", "/api/v1/quote", "200", "Quote"],
  ["post", "/api/v1/polls", "201", "CreatePollResponse"],
  ["post", "/api/v1/polls", "202", "PaymentPending"],
  ["post", "/api/v1/polls", "402", "PaymentRequired"],
  ["post", "/api/v1/polls", "400", "Error"],
  ["get", "/api/v1/polls", "200", "PollList"],
  ["get", "/api/v1/polls/{id}", "200", "Poll"],
  ["get", "/api/v1/polls/{id}/results", "200", "PollResults"],
  ["get", "/api/v1/polls/{id}/results", "403", "Error"],
  ["get", "/api/v1/polls/{id}/votes", "200", "PollVotesPage"],
  ["post", "/api/v1/polls/{id}/read-token", "200", "ReadTokenRecovery"],
];

type Json = Record<string, unknown>;
let app: InProcessApp;
let served: Json;
beforeAll(async () => {
  app = inProcessApp();
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  served = (await response.json()) as Json;
});
afterAll(async () => {
  await app?.close();
});

const componentsOf = (document: Json) => (document.components as { schemas: Record<string, unknown> }).schemas;

describe("the client's types and the served openapi.json", () => {
  it("describe every component the client uses exactly as the service serves it", () => {
    const generator = new OpenAPIHono();
    for (const [name, schema] of Object.entries(CLIENT_SCHEMAS)) generator.openAPIRegistry.register(name, schema);
    const ours: Record<string, unknown> = generator.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "client", version: "0" } }).components?.schemas ?? {};
    const theirs = componentsOf(served);
    for (const name of Object.keys(ours)) {
      expect(theirs[name], `component ${name}`).toEqual(ours[name]);
    }
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(Object.keys(CLIENT_SCHEMAS)));
  });

  it.each(CLIENT_OPERATIONS)("%s %s answers %s with the client's %s", (method, path, status, component) => {
    const paths = served.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
    const operation = paths[path]?.[method];
    expect(operation, `${method} ${path}`).toBeDefined();
    expect(operation!.responses[status]?.content?.["application/json"]?.schema).toEqual({ $ref: `#/components/schemas/${component}` });
  });

  it("sends the body the service reads", () => {
    const paths = served.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    expect(paths["/api/v1/polls"]!.post!.requestBody!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/CreatePollRequest" });
  });

  it("knows the USDC of every production network the service can offer", () => {
    const production = PRODUCTION_NETWORKS.map((spec) => ({ network: spec.network, asset: spec.usdc.address }));
    expect([...USDC_ASSETS].sort((a, b) => a.network.localeCompare(b.network))).toEqual(production.sort((a, b) => a.network.localeCompare(b.network)));
  });
});
