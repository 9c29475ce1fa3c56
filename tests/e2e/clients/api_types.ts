// Request and response bodies of the types openapi-typescript generates into `./api` (api.d.ts),
// by operationId and status: what a TypeScript client of Tenantry writes and reads.
import type { operations } from "./api";

type Ops = operations;
export type Req<O extends keyof Ops> = Ops[O] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;
export type Res<O extends keyof Ops, S extends keyof Ops[O]["responses"]> = Ops[O]["responses"][S] extends {
  content: { [media: string]: infer R };
}
  ? R
  : never;
export type Headers<O extends keyof Ops> = Ops[O]["parameters"] extends { header?: infer H }
  ? NonNullable<H>
  : never;
