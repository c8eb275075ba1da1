// Response shapes shared by every route's OpenAPI declaration.
import { z } from "@hono/zod-openapi";

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_error" }),
      message: z.string(),
      param: z.string().optional().openapi({ example: "options[1].text" }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

export const PaymentRequirementsShape = z
  .object({
    scheme: z.literal("exact"),
    network: z.string().openapi({ example: "eip155:8453" }),
    amount: z.string().openapi({ example: "500000" }),
    asset: z.string(),
    payTo: z.string(),
    maxTimeoutSeconds: z.number().int(),
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("PaymentRequirements");

export const PaymentRequiredResponse = z
  .object({
    x402Version: z.literal(2),
    error: z.string().optional(),
    resource: z.object({
      url: z.string(),
      description: z.string().optional(),
      mimeType: z.string().optional(),
      serviceName: z.string().optional(),
      tags: z.array(z.string()).optional(),
      iconUrl: z.string().optional(),
    }),
    accepts: z.array(PaymentRequirementsShape),
    extensions: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("PaymentRequired");
