// Request and response shapes of the voting API (voter web page, simulate-voters, Workers). Shared by
// the routes and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { EvmAddress } from "../lib/address";
import { DemographicsInput, PublicPoll, VISIBLE_STATUSES } from "../polls";

/** A poll option as voters see it: the public poll's option, under its own name in the document. */
export const VoterPollOption = PublicPoll.shape.options.element.openapi("VoterPollOption");

export const VoterReward = z
  .object({
    network: z.string().openapi({ example: "eip155:480", description: "The network the poll was paid on; rewards accrue there." }),
    networkLabel: z.string().openapi({ example: "World Chain" }),
    perVoteUsdc: z.number().openapi({ example: 0.0005 }),
    perVoteAtomic: z.string().openapi({ example: "500" }),
  })
  .openapi("VoterReward");

/**
 * The public poll (GET /api/v1/polls/{id}) cut to what the voter page shows, plus the reward a vote earns.
 * The id and expiry are documented as plain strings here, as they always have been for voters.
 */
export const VoterPoll = z
  .object({
    id: z.string(),
    ...PublicPoll.pick({
      url: true,
      status: true,
      question: true,
      description: true,
      moreInfoUrl: true,
      mediaUrl: true,
      mediaType: true,
      layoutType: true,
    }).shape,
    options: z.array(VoterPollOption).openapi({
      description: "In a fresh random order for every request; send the order you showed back as `shownOrder` with the vote.",
    }),
    voteCount: PublicPoll.shape.voteCount.openapi({ description: "Responses so far." }),
    maxResponses: PublicPoll.shape.maxResponses,
    expiresAt: z.string(),
    reward: VoterReward,
  })
  .openapi("VoterPoll");

export const VoterPollList = z
  .object({ polls: z.array(VoterPoll), nextCursor: z.string().nullable() })
  .openapi("VoterPollList");

export const PageQuery = z.object({
  limit: z.string().optional().openapi({ example: "20" }),
  cursor: z.string().optional().openapi({ description: "nextCursor from the previous page (opaque)." }),
});

export const WorldIdRequestBody = z
  .strictObject({
    optionId: z.string().min(1).max(100),
    payoutAddress: EvmAddress,
  })
  .openapi("WorldIdRequestBody");

export const RpContext = z
  .object({
    rp_id: z.string(),
    nonce: z.string(),
    created_at: z.number().int().openapi({ description: "Unix seconds." }),
    expires_at: z.number().int().openapi({ description: "Unix seconds." }),
    signature: z.string(),
  })
  .openapi("RpContext");

export const WorldIdRequestResponse = z
  .object({
    pollId: z.string(),
    optionId: z.string(),
    payoutAddress: z.string(),
    nonce: z.string().openapi({ description: "Single use; the proof must carry it." }),
    signal: z.string().openapi({ description: "Pass as the IDKit preset's signal; binds the proof to this option and payout address." }),
    signalHash: z.string().openapi({ description: "hashSignal(signal): each proof response's signal_hash must equal it." }),
    expiresAt: z.string().openapi({ description: "Submit the vote before this instant." }),
    simulated: z.boolean().openapi({ description: "True in local mode: get the proof from POST /api/v1/voter/simulated-proof." }),
    idkit: z
      .object({
        app_id: z.string(),
        action: z.string(),
        rp_context: RpContext,
        allow_legacy_proofs: z.boolean(),
        environment: z.enum(["production", "staging"]),
      })
      .openapi({
        description:
          'Pass as IDKit.request(config).constraints(CredentialRequest("proof_of_human", { signal })). Not the proofOfHuman() ' +
          "preset: it adds a World ID 3 fallback, and votes accept 4.0 proofs only.",
      }),
  })
  .openapi("WorldIdRequest");

const IdkitResponseItem = z
  .looseObject({
    identifier: z.string().optional(),
    signal_hash: z.string().optional(),
    proof: z.union([z.array(z.string()), z.string()]).optional(),
    nullifier: z.string().optional(),
    issuer_schema_id: z.number().optional(),
    expires_at_min: z.number().optional(),
  })
  .openapi("IdkitResponseItem");

export const IdkitResult = z
  .looseObject({
    protocol_version: z.string().openapi({ example: "4.0" }),
    nonce: z.string(),
    action: z.string().optional(),
    environment: z.string().optional(),
    responses: z.array(IdkitResponseItem),
  })
  .openapi("IdkitResult", { description: "The IDKit result (IDKitResultV4), unchanged." });

export const CastVoteBody = z
  .strictObject({
    optionId: z.string().min(1).max(100),
    payoutAddress: EvmAddress,
    demographics: DemographicsInput.nullish(),
    shownOrder: z
      .array(z.string().max(100))
      .max(10)
      .nullish()
      .openapi({ description: "Option ids in the order the voter saw them (position bias can be measured from it)." }),
    proof: IdkitResult,
  })
  .openapi("CastVoteRequest");

export const CastVoteResponse = z
  .object({
    voteId: z.string(),
    pollId: z.string(),
    optionId: z.string(),
    poll: z.object({
      status: z.enum(VISIBLE_STATUSES),
      voteCount: z.number().int(),
      maxResponses: z.number().int(),
      completedAt: z.string().nullable(),
    }),
    reward: z.object({
      network: z.string(),
      networkLabel: z.string(),
      payoutAddress: z.string(),
      amountUsdc: z.number(),
      amountAtomic: z.string(),
    }),
  })
  .openapi("CastVoteResponse");

export const SimulatedProofBody = z
  .strictObject({
    action: z.string().min(1).max(200),
    signal: z.string().max(500),
    rpContext: RpContext,
    human: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Seed of the simulated human: the same seed always has the same nullifier. Random when absent." }),
  })
  .openapi("SimulatedProofRequest");
