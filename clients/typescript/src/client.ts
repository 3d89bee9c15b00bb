// A typed request over GraphQL over HTTP. It sends only the operation's hash (`documentId`), as a
// server with CMS_TRUSTED_DOCUMENTS=only requires: the generated documents carry it (`__meta__.hash`, `sha256:<hex>`).
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";

export interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

export type Result<TData> =
  | { ok: true; data: TData }
  | { ok: false; errors: GraphQLError[] };

type Persisted<TData, TVariables> = TypedDocumentNode<TData, TVariables> & {
  __meta__?: { hash?: string };
};

export async function request<TData, TVariables extends Record<string, unknown>>(
  endpoint: string,
  document: Persisted<TData, TVariables>,
  variables: TVariables,
): Promise<Result<TData>> {
  const hash = document.__meta__?.hash;
  if (hash === undefined) {
    throw new Error("run `npm run codegen`: the document has no persisted hash");
  }
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
    },
    body: JSON.stringify({ documentId: hash, variables }),
  });
  const body = (await response.json()) as { data?: TData | null; errors?: GraphQLError[] };
  if (body.errors !== undefined && body.errors.length > 0) {
    return { ok: false, errors: body.errors };
  }
  if (body.data === undefined || body.data === null) {
    return { ok: false, errors: [{ message: `HTTP ${response.status} without data` }] };
  }
  return { ok: true, data: body.data };
}
