import type { CodegenConfig } from "@graphql-codegen/cli";

// The client preset alone: it writes the operation types and the typed `graphql()` function.
// (The `typescript` and `typescript-operations` plugins added beside it emit the enums twice.)
const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  // Imports between the generated files end in `.js`, as ES modules in Node and browsers need.
  importExtension: ".js",
  generates: {
    "./src/gql/": {
      preset: "client",
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", Date: "string", JSON: "unknown" },
      },
      presetConfig: {
        fragmentMasking: false,
        // persisted-documents.json: sha256 hash -> document, for CMS_TRUSTED_DOCUMENTS_FILE.
        persistedDocuments: true,
      },
    },
  },
};

export default config;
